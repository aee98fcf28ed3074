import { z } from 'zod';
import { STATUSES, type Channel } from '../../delivery/lifecycle';
import { notificationBody } from '../notification-schema';
import { idempotencyKey, isoTime } from './common';
import { errorBody } from './errors';

/** Every channel, checked against the type: a new channel fails to compile until it is listed. */
const CHANNELS: { [C in Channel]: C } = { template: 'template', customer_service: 'customer_service', passive_reply: 'passive_reply' };

export const status = z.enum(STATUSES).describe('one vocabulary in the API, the logs and the webhooks');

const historyEntry = z.object({
  at: isoTime,
  status: status.describe('the status after the event (unchanged for an event that changes nothing)'),
  detail: z.string().describe('why: the step, the errcode, what the user will not see of a template…'),
  call: z
    .object({
      path: z.string().describe('e.g. /cgi-bin/message/template/send (or the token endpoint, when no token could be had)'),
      errcode: z.number().int().nullable().describe('WeChat’s errcode (0: accepted); null when no answer came (timeout, connection, HTTP 5xx)'),
      ms: z.number().int().min(0).describe('how long the call took'),
    })
    .optional()
    .describe('the WeChat call behind this step'),
});

/** GET /v1/notifications/:id, and the `data` of the webhooks' notification events. */
export const notificationView = z
  .object({
    id: z.string().describe('`n<hex>.<appid>`: the id carries the account'),
    account: z.string().describe('the appid of the Official Account'),
    status,
    openid: z.string(),
    template: z.string().describe('as sent: a configured name or a raw template id'),
    templateId: z.string().optional().describe('the WeChat template id used'),
    msgid: z.string().regex(/^\d+$/).optional().describe('WeChat’s msgid, a decimal string (real ones exceed 2^53)'),
    channel: z.enum(CHANNELS).optional().describe('what reached the user'),
    reason: z.string().optional().describe('why it failed or fell back'),
    text: z.string().optional().describe('the fallback sentence, once built'),
    parkedUntil: isoTime.optional().describe('while awaiting_interaction: when it ends failed (expired) unless the user interacts'),
    rendered: z.string().optional().describe('GET of one notification: its template message as WeChat shows it (title, shown fields cut to 20 characters), when the template’s content is known'),
    history: z.array(historyEntry),
  })
  .describe('A notification as its creator sees it.');

/** 202 of POST /v1/notifications. */
export const notificationAccepted = z.object({ id: z.string(), status: z.literal('queued') });

/** The most notifications one batch call takes. */
export const MAX_BATCH = 1000;

/** One notification of a batch: the single call's body, with its own optional idempotency key. */
export const batchItem = notificationBody.extend({ idempotencyKey: idempotencyKey.optional() });

const batchOf = <T extends z.ZodType>(item: T) => z.object({ notifications: z.array(item).min(1).max(MAX_BATCH) }).strict();

/**
 * What the batch route checks of the whole body: a list of 1 to MAX_BATCH entries. Each entry is
 * then checked on its own with `batchItem`, so one bad entry never rejects the others.
 */
export const batchEnvelope = batchOf(z.unknown());

/** POST /v1/notifications/batch as documented. */
export const batchRequest = batchOf(batchItem);

/** One entry of the 207 answer, at the index of the notification it answers. */
export const batchResult = z.union([
  z.object({ status: z.literal(202), id: z.string(), replayed: z.boolean().optional().describe('true: an earlier call with this idempotencyKey made it') }),
  z.object({
    status: z.literal([400, 403, 409]),
    error: errorBody(['invalid_request', 'unknown_account', 'unknown_template', 'forbidden', 'account_unauthorized', 'idempotency_conflict']).shape.error,
  }),
]);

export const batchAnswer = z.object({ results: z.array(batchResult).describe('in the order sent') });
