import { z } from 'zod';
import { MAX_BUCKETS } from '../../delivery/stats';
import { appid, isoTime } from './common';

/**
 * GET /v1/stats and GET /v1/stats/callbacks: the query (the routes validate with it) and the
 * answers. Counters are named in the lifecycle's move table (src/delivery/lifecycle.ts).
 */

/** A time in a query: ISO-8601, or epoch milliseconds. */
const queryTime = z
  .string()
  .refine((s) => (/^\d{1,15}$/.test(s) ? true : z.iso.datetime({ offset: true }).safeParse(s).success), 'an ISO-8601 time or epoch milliseconds')
  .transform((s) => (/^\d{1,15}$/.test(s) ? Number(s) : Date.parse(s)));

const range = {
  from: queryTime.optional().describe('start (ISO-8601 or epoch ms); default `to` − 24 h'),
  to: queryTime.optional().describe('end, excluded (ISO-8601 or epoch ms); default now'),
  bucket: z
    .enum(['minute', 'hour', 'day'])
    .optional()
    .describe(`bucket size (UTC); default minute up to 2 h, hour up to 3 days, else day; at most ${MAX_BUCKETS} buckets`),
};

export const statsQuery = z
  .object({
    ...range,
    account: appid.optional().describe('one account; default every account the key may use'),
    template: z.string().min(1).max(200).optional().describe("one template, as notices name it (a configured name or a raw id)"),
  })
  .strict();

export const callbackStatsQuery = z.object(range).strict();

/** Counter → count, only the non-zero ones. */
const counts = z
  .record(z.string(), z.number().int().min(0))
  .describe(
    'accepted, template.sent, template.refused, receipt.success|user_block|system_failed|other_failed|none, delivered, fallback_sent.customer_service|passive_reply, window.open|closed, parked, failed.<reason>',
  );

const bucketName = z.enum(['minute', 'hour', 'day']);

export const statsAnswer = z.object({
  from: isoTime,
  to: isoTime,
  bucket: bucketName,
  accounts: z.array(z.string()).describe('the accounts counted'),
  totals: counts.describe('over the whole buckets of the range'),
  series: z.array(z.object({ start: isoTime, counts })).describe('every bucket, oldest first'),
  templates: z.array(z.object({ account: z.string(), template: z.string(), counts })).describe('the funnel per account and template'),
});

const ms = z.number().int().min(0).nullable().describe('ms, the upper bound of its histogram bucket; null with no answers');

export const callbackStatsAnswer = z.object({
  from: isoTime,
  to: isoTime,
  bucket: bucketName,
  answers: z.object({
    count: z.number().int().min(0).describe("answers to WeChat's pushes at /wechat, every instance"),
    p50Ms: ms,
    p99Ms: ms,
    over5s: z.number().int().min(0).describe('answers slower than the 5 s WeChat waits'),
  }),
  byKind: z.record(z.string(), z.number().int().min(0)).describe('pushes by kind: receipt, text, image…, event.subscribe, event.CLICK…'),
  series: z.array(z.object({ start: isoTime, count: z.number().int().min(0), p99Ms: ms })).describe('every bucket, oldest first'),
});
