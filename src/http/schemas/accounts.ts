import { z } from 'zod';
import type { AccountState } from '../../delivery/account-state';
import type { AccountKind } from '../../delivery/accounts';
import { appid, isoTime } from './common';

/** Every kind, checked against the type. */
const KINDS: { [K in AccountKind]: K } = { own: 'own', authorizer: 'authorizer' };

/** The account a call is about (GET /v1/templates): may be left out when the key can use only one. */
export const accountQuery = z.object({ account: appid.optional().describe('the appid; required when the key can use more than one account') });

/** One template of an account, with its state and counts. */
export const templateEntry = z.object({
  name: z.string().describe('the name in the config'),
  templateId: z.string().nullable().describe('the id in this account; null when it has none yet'),
  valid: z.boolean(),
  since: isoTime.nullable().describe('since when `valid` holds'),
  reason: z.string().nullable().describe('why it is invalid'),
  title: z.string().nullable(),
  counts: z
    .record(z.string(), z.number().int())
    .describe(
      'notices sent under this name (or under its current template id), over the days the statistics keep (`stats.retentionDays`): sent, receipt_success, receipt_user_block, receipt_system_failed, receipt_other_failed, fallback_sent (the customer-service text or the passive reply); counts that are zero are left out',
    ),
});

/** A template in GET /v1/templates: its state, counts and latest events. */
export const templateOverview = templateEntry.extend({
  events: z
    .array(
      z.object({
        at: isoTime,
        valid: z.boolean(),
        reason: z.string().optional(),
        healedTo: z.string().optional().describe('the template id the name switched to (re-added from the library, or found by title)'),
      }),
    )
    .max(20)
    .describe('the latest validity changes and self-healings, newest first'),
});

export const templatesAnswer = z.object({ account: z.string(), templates: z.array(templateOverview) });

const ACTIVE_STATES: { [S in Exclude<AccountState, 'unknown'>]: S } = { active: 'active', unauthorized: 'unauthorized' };

/** An account that exists: may it send, is its token refused, which templates work, is the quota spent. */
export const accountView = z.object({
  appid: z.string(),
  kind: z.enum(KINDS).describe('own: configured; authorizer: a merchant of the third-party platform'),
  state: z.enum(ACTIVE_STATES).describe('unauthorized: the merchant revoked the platform'),
  token: z.union([
    z.object({ ok: z.literal(true) }),
    z.object({ ok: z.literal(false), errcode: z.number().int().nullable(), problem: z.string().describe('what to fix') }),
  ]),
  templates: z.object({ valid: z.array(z.string()), invalid: z.array(z.object({ name: z.string(), reason: z.string().nullable() })) }),
  templateQuota: z.union([z.object({ paused: z.literal(false) }), z.object({ paused: z.literal(true), until: isoTime })]),
});

/** An account in GET /v1/accounts: its state and its health. */
export const accountHealth = accountView.extend({
  lastPushAt: isoTime.nullable().describe('the last push from WeChat seen (written at most once a minute per instance)'),
  tokenRefreshes24h: z.number().int().min(0).describe('access tokens fetched in the last 24 hours'),
  tokenRefusal: z.object({ errcode: z.number().int(), at: isoTime.describe('refused since') }).nullable().describe('the token endpoint refuses; null when the last fetch succeeded'),
  quota: z
    .object({ dailyLimit: z.number().int(), used: z.number().int(), remaining: z.number().int(), checkedAt: isoTime })
    .nullable()
    .describe("the template send API's daily quota, from openapi/quota/get (polled on a schedule); null until asked"),
  quotaPausedUntil: isoTime.nullable().describe('template sends paused until then (WeChat answered 45009)'),
});

/** An account a limited key names that is neither configured nor authorised. */
const unknownAccount = z.object({ appid: z.string(), state: z.literal('unknown') });

export const accountsAnswer = z.object({ accounts: z.array(z.union([accountHealth, unknownAccount])).describe('the accounts the key may use') });

/** GET /v1/component/authorize-url */
export const authorizeUrlQuery = z.object({
  next: z.url({ protocol: /^https?$/ }).describe('the http(s) page of yours the merchant’s browser goes on to, with `authorizer_appid` added'),
});

export const authorizeUrlAnswer = z.object({ url: z.url().describe('show it as a link on a page of your authorisation domain; fetch a fresh one per visit') });

/** POST /v1/component/recover: what a recovery did, by appid. */
export const recoverySummary = z.object({
  restored: z.array(z.string()).describe('stored anew, or with the refresh token WeChat holds'),
  unchanged: z.number().int().min(0).describe('how many already held WeChat’s refresh token'),
  needsAuthorisation: z.array(z.string()).describe('WeChat holds no refresh token: the merchant must open a new link'),
  revoked: z.array(z.string()).describe('authorised here but gone from WeChat’s list'),
});
