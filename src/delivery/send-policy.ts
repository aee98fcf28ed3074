import { WechatApiError, WechatTransportError } from '../wechat/api-errors';
import { ERRCODE, TOKEN_ERRCODES } from '../wechat/errcodes';

/** What to do after a template send failed (README "How the fallback decides"); every row is tested. */
export type TemplateDecision =
  | { action: 'retry'; reason: string }
  /** WeChat gave no answer (or no token): wait for it without using up attempts, within `outage.maxWaitSeconds`. */
  | { action: 'wait'; reason: string }
  | { action: 'fallback'; reason: string; template?: 'invalid' | 'quota_exhausted' }
  | { action: 'fail'; reason: string };

/** What to do after a customer-service send failed. */
export type CustomDecision =
  | { action: 'retry'; reason: string }
  | { action: 'wait'; reason: string }
  /** Keep it for the user's next interaction; `windowClosed` when WeChat said the window is shut. */
  | { action: 'park'; reason: string; windowClosed: boolean }
  | { action: 'fail'; reason: string };

/** The recipient cannot be reached by any channel: no point in a customer-service call. */
const UNREACHABLE: Readonly<Record<number, string>> = {
  [ERRCODE.REQUIRE_SUBSCRIBE]: 'not_a_follower',
  [ERRCODE.INVALID_OPENID]: 'invalid_openid',
  [ERRCODE.USER_BLACKLISTED]: 'blacklisted',
};

/** -1 busy, 45011 per-minute limit: WeChat answered and did nothing; try again later. */
const TRANSIENT: ReadonlySet<number> = new Set([ERRCODE.SYSTEM_BUSY, ERRCODE.MINUTE_QUOTA_EXHAUSTED]);

/** The template is gone or the account may not use it. */
const TEMPLATE_UNUSABLE: ReadonlySet<number> = new Set([ERRCODE.INVALID_TEMPLATE_ID_SIZE, ERRCODE.INVALID_TEMPLATE_ID, ERRCODE.API_UNAUTHORIZED, ERRCODE.API_BANNED]);

/** Getting the access token failed (a refusal or no answer): the message itself never left. */
function tokenTrouble(err: unknown): string | null {
  if (err instanceof WechatApiError && isTokenPath(err.path)) return `access token unavailable: errcode ${err.errcode}`;
  if (err instanceof WechatTransportError && isTokenPath(err.path)) return `access token unavailable: ${err.reason}`;
  return null;
}

export function decideTemplateFailure(err: unknown): TemplateDecision {
  const token = tokenTrouble(err);
  if (token) return { action: 'wait', reason: token };
  // No answer: an outage is not the template's fault, and client_msg_id makes the repeat safe.
  if (err instanceof WechatTransportError) return { action: 'wait', reason: `wechat_unreachable: ${err.reason}` };
  if (!(err instanceof WechatApiError)) return { action: 'retry', reason: `transient: ${(err as Error)?.message ?? String(err)}` };
  const code = err.errcode;
  if (TRANSIENT.has(code) || TOKEN_ERRCODES.has(code)) return { action: 'retry', reason: `transient: errcode ${code}` };
  if (UNREACHABLE[code]) return { action: 'fail', reason: UNREACHABLE[code] };
  if (TEMPLATE_UNUSABLE.has(code)) return { action: 'fallback', reason: `template_unusable: errcode ${code}`, template: 'invalid' };
  if (code === ERRCODE.USER_REFUSED_TEMPLATE) return { action: 'fallback', reason: 'user_refused_template: errcode 43101' };
  if (code === ERRCODE.INVALID_TEMPLATE_ARGUMENT) return { action: 'fallback', reason: `bad_data: ${err.errmsg.replace(/\s*rid:.*$/, '')}` };
  if (code === ERRCODE.DAILY_QUOTA_EXHAUSTED) return { action: 'fallback', reason: 'template_quota_exhausted: errcode 45009', template: 'quota_exhausted' };
  return { action: 'fallback', reason: `template_refused: errcode ${code}` };
}

export function decideCustomFailure(err: unknown): CustomDecision | { action: 'unknown'; reason: string } {
  const token = tokenTrouble(err);
  if (token) return { action: 'wait', reason: token };
  if (err instanceof WechatTransportError) {
    // The call may have reached WeChat: a customer-service message has no idempotency key, so never repeat it.
    return err.sent === 'no' ? { action: 'wait', reason: `wechat_unreachable: ${err.reason}` } : { action: 'unknown', reason: 'outcome_unknown' };
  }
  // Not an answer from WeChat (e.g. the store failed while getting the token): nothing was sent.
  if (!(err instanceof WechatApiError)) return { action: 'retry', reason: `transient: ${(err as Error)?.message ?? String(err)}` };
  const code = err.errcode;
  if (TRANSIENT.has(code) || TOKEN_ERRCODES.has(code)) return { action: 'retry', reason: `transient: errcode ${code}` };
  if (code === ERRCODE.WINDOW_CLOSED) return { action: 'park', reason: 'window_closed: errcode 45015', windowClosed: true };
  if (code === ERRCODE.WINDOW_QUOTA_USED) return { action: 'park', reason: 'window_quota_used: errcode 45047', windowClosed: true };
  // The daily customer-service quota: a passive reply on the user's next interaction does not use it.
  if (code === ERRCODE.DAILY_QUOTA_EXHAUSTED) return { action: 'park', reason: 'customer_service_quota_exhausted: errcode 45009', windowClosed: false };
  if (UNREACHABLE[code]) return { action: 'fail', reason: UNREACHABLE[code] };
  if (code === ERRCODE.USER_BLOCKED_MESSAGES) return { action: 'fail', reason: 'user_blocked_messages' };
  return { action: 'fail', reason: `customer_service_refused: errcode ${code}` };
}

/**
 * The error came from the token endpoint (wrong secret, IP not whitelisted…): nothing was sent,
 * so the notice waits without using up its attempts.
 */
function isTokenPath(path: string): boolean {
  return path.endsWith('/token') || path.endsWith('/stable_token');
}

/** Exponential backoff with jitter (half fixed, half random) so retries of many notices spread out. */
export function backoffMs(attempt: number, baseMs: number, random: () => number = Math.random): number {
  const exp = Math.min(baseMs * 2 ** Math.max(0, attempt - 1), 10 * 60_000);
  return Math.round(exp / 2 + (random() * exp) / 2);
}
