import { z } from 'zod';
import { LOG_LEVELS } from '../log/logger';
import { webhooksSchema } from '../outbound/config-schema';

const templateSchema = z
  .object({
    /** WeChat template id; may change without touching business systems. */
    id: z.string().min(1).optional(),
    /** The template's title in the account's list: finds its id there when no id is given (the list carries no short id). */
    title: z.string().min(1).optional(),
    /** Sentence pattern with {{field}} placeholders (and {{url}}) used for the customer-service fallback. */
    fallback: z.string().min(1).optional(),
    /** Short id from the template library: lets wxreach add the template (or re-add a deleted one). */
    shortId: z.string().min(1).optional(),
  })
  .strict()
  .refine((t) => t.id !== undefined || t.title !== undefined || t.shortId !== undefined, 'needs an id, a title or a shortId to find the template by');

const templateName = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'template names: letters, digits, _ . -');
const templates = z.record(templateName, templateSchema);

const appId = z.string().regex(/^wx[0-9a-zA-Z]{6,32}$/, 'must look like wx0123456789abcdef');
const serverToken = z.string().regex(/^[A-Za-z0-9]{3,32}$/, '3-32 letters or digits, as WeChat requires');
const aesKey = z.string().regex(/^[A-Za-z0-9]{43}$/, 'must be the 43-character EncodingAESKey');
const tokenMode = z.enum(['stable', 'classic']);

/** One Official Account of the operator's own (config `accounts`). */
const ownAccountSchema = z
  .object({
    appSecret: z.string().min(1),
    token: serverToken,
    aesKey: aesKey.nullable().optional(),
    acceptPlaintext: z.boolean().optional(),
    tokenMode: tokenMode.optional(),
    /** This account's templates; an entry here wins over `templateDefaults`. */
    templates: templates.optional(),
  })
  .strict();

const positiveInt = z.number().int().positive();

/** `key` (every account) or `key=appid1|appid2` (only those accounts). */
const apiKey = z
  .string()
  .regex(/^[^=\s]{16,}(=wx[0-9a-zA-Z]{6,32}(\|wx[0-9a-zA-Z]{6,32})*)?$/, 'API keys must be at least 16 characters, optionally followed by =appid1|appid2');

export const configSchema = z.object({
  port: z.number().int().min(0).max(65535),
  redisUrl: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').nullable(),
  /** A Redis Cluster instead of one Redis: some of its nodes, as host:port. */
  redisClusterNodes: z.array(z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'must be host:port')).min(1).nullable(),
  redisPrefix: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'letters, digits, _ or -'),
  apiKeys: z.array(apiKey),
  // --- the operator console: keys that read every client's notices, and the data fields notices are searchable by
  /** Keys as `apiKeys` that also read every client's notices of their accounts (search, GET one, the console). */
  operatorKeys: z.array(apiKey),
  /** Data fields whose values notices can be found by (GET /v1/notifications?field=…&value=…). */
  searchFields: z.array(z.string().regex(/^[A-Za-z0-9_]{1,32}$/, 'field names: letters, digits and _')).refine((f) => new Set(f).size === f.length, 'each field once'),
  /** wxreach's own public https base URL (the third-party platform's authorisation callback is under it). */
  publicUrl: z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, '')).nullable(),
  wechat: z.object({
    /** The single account of the environment variables (WECHAT_APPID…); more go in `accounts`. */
    appId: appId.nullable(),
    appSecret: z.string().min(1).nullable(),
    token: serverToken.nullable(),
    aesKey: aesKey.nullable(),
    /** With an AES key, still accept plaintext pushes: only while migrating the account to compatible mode. */
    acceptPlaintext: z.boolean(),
    apiBase: z.url().transform((u) => u.replace(/\/+$/, '')),
    tokenMode,
    timeoutMs: positiveInt,
    maxInFlight: positiveInt,
    timestampSkewSeconds: positiveInt,
  }),
  /** The single account's templates (the one of WECHAT_APPID). */
  templates,
  /** Templates every account has, found in each account's list by title or added by short id. */
  templateDefaults: templates,
  /** More Official Accounts of the operator's own, by appid. */
  accounts: z.record(appId, ownAccountSchema),
  /** Third-party platform mode: merchants authorise this platform and their accounts are served too. */
  component: z
    .object({ appId, appSecret: z.string().min(1), token: serverToken, aesKey })
    .strict()
    .nullable(),
  retry: z.object({ maxAttempts: positiveInt.max(20), baseDelayMs: positiveInt }),
  /** WeChat unreachable (or giving no token): notices wait this long per leg, then end `failed`. */
  outage: z.object({ maxWaitSeconds: positiveInt }),
  receipt: z.object({ timeoutSeconds: positiveInt, onTimeout: z.enum(['fallback', 'assume_delivered']) }),
  window: z.object({ parkSeconds: positiveInt }),
  templateSync: z.object({ intervalSeconds: positiveInt }),
  worker: z.object({ pollMs: positiveInt, leaseMs: positiveInt.min(1000), batchSize: positiveInt, concurrency: positiveInt }),
  retentionDays: positiveInt,
  /**
   * The statistics (GET /v1/stats): their counters are kept `retentionDays` (bucket by bucket);
   * each active account's template quota is asked for every `quotaPollSeconds`.
   */
  stats: z.object({ retentionDays: positiveInt, quotaPollSeconds: positiveInt }),
  forward: z.object({
    url: z.url().nullable(),
    /** Token the downstream checks signatures with; defaults to wechat.token. */
    token: z.string().min(1).nullable(),
    timeoutMs: positiveInt.max(4000, 'must leave time to answer WeChat within its 5 s'),
  }),
  /**
   * The Redis Stream business systems append notifications to (null: `<redisPrefix>:intake`), and
   * how long an entry handed to an instance may stay unacknowledged before another takes it over.
   */
  intake: z.object({ stream: z.string().regex(/^[\x21-\x7e]{1,100}$/, '1-100 printable characters, no spaces').nullable(), claimIdleMs: positiveInt.min(1000) }),
  /** Status webhooks: the operator's endpoints (more are registered through the API). */
  webhooks: webhooksSchema(appId),
  /** Where pushes wait while the store is unreachable (one file per instance); null: var/push-journal-<port>.jsonl. */
  pushJournal: z.object({ file: z.string().min(1).nullable() }),
  logLevel: z.enum(LOG_LEVELS),
});

export type Config = z.infer<typeof configSchema>;
export type TemplateConfig = z.infer<typeof templateSchema>;
export type OwnAccountConfig = z.infer<typeof ownAccountSchema>;
