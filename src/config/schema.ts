import { z } from 'zod';

const templateSchema = z.object({
  /** WeChat template id; may change without touching business systems. */
  id: z.string().min(1),
  /** Sentence pattern with {{field}} placeholders (and {{url}}) used for the customer-service fallback. */
  fallback: z.string().min(1).optional(),
  /** Short id from the template library: lets wxreach re-add a deleted template. */
  shortId: z.string().min(1).optional(),
});

const positiveInt = z.number().int().positive();

export const configSchema = z.object({
  port: z.number().int().min(0).max(65535),
  redisUrl: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').nullable(),
  redisPrefix: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'letters, digits, _ or -'),
  apiKeys: z.array(z.string().min(16, 'API keys must be at least 16 characters')),
  wechat: z.object({
    appId: z.string().regex(/^wx[0-9a-zA-Z]{6,32}$/, 'must look like wx0123456789abcdef').nullable(),
    appSecret: z.string().min(1).nullable(),
    token: z.string().regex(/^[A-Za-z0-9]{3,32}$/, '3-32 letters or digits, as WeChat requires').nullable(),
    aesKey: z.string().regex(/^[A-Za-z0-9]{43}$/, 'must be the 43-character EncodingAESKey').nullable(),
    /** With an AES key, still accept plaintext pushes: only while migrating the account to compatible mode. */
    acceptPlaintext: z.boolean(),
    apiBase: z.url().transform((u) => u.replace(/\/+$/, '')),
    tokenMode: z.enum(['stable', 'classic']),
    timeoutMs: positiveInt,
    maxInFlight: positiveInt,
    timestampSkewSeconds: positiveInt,
  }),
  templates: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'template names: letters, digits, _ . -'), templateSchema),
  retry: z.object({ maxAttempts: positiveInt.max(20), baseDelayMs: positiveInt }),
  /** WeChat unreachable (or giving no token): notices wait this long per leg, then end `failed`. */
  outage: z.object({ maxWaitSeconds: positiveInt }),
  receipt: z.object({ timeoutSeconds: positiveInt, onTimeout: z.enum(['fallback', 'assume_delivered']) }),
  window: z.object({ parkSeconds: positiveInt }),
  templateSync: z.object({ intervalSeconds: positiveInt }),
  worker: z.object({ pollMs: positiveInt, leaseMs: positiveInt.min(1000), batchSize: positiveInt, concurrency: positiveInt }),
  retentionDays: positiveInt,
  forward: z.object({
    url: z.url().nullable(),
    /** Token the downstream checks signatures with; defaults to wechat.token. */
    token: z.string().min(1).nullable(),
    timeoutMs: positiveInt.max(4000, 'must leave time to answer WeChat within its 5 s'),
  }),
  /** Where pushes wait while the store is unreachable (one file per instance); null: var/push-journal-<port>.jsonl. */
  pushJournal: z.object({ file: z.string().min(1).nullable() }),
  logLevel: z.enum(['error', 'warn', 'info', 'debug']),
});

export type Config = z.infer<typeof configSchema>;
export type TemplateConfig = z.infer<typeof templateSchema>;
