import { TOKEN_ERRCODES, WechatApiError, WechatTransportError } from '../wechat/api-errors';

/** What to do after a template send failed. The one table of issue 4; every row is tested. */
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
  43004: 'not_a_follower',
  40003: 'invalid_openid',
  43019: 'blacklisted',
};

/** -1 busy, 45011 per-minute limit: WeChat answered and did nothing; try again later. */
const TRANSIENT: ReadonlySet<number> = new Set([-1, 45011]);

/** The template is gone or the account may not use it. */
const TEMPLATE_UNUSABLE: ReadonlySet<number> = new Set([40036, 40037, 48001, 48004]);

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
  if (code === 43101) return { action: 'fallback', reason: 'user_refused_template: errcode 43101' };
  if (code === 47003) return { action: 'fallback', reason: `bad_data: ${err.errmsg.replace(/\s*rid:.*$/, '')}` };
  if (code === 45009) return { action: 'fallback', reason: 'template_quota_exhausted: errcode 45009', template: 'quota_exhausted' };
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
  if (code === 45015) return { action: 'park', reason: 'window_closed: errcode 45015', windowClosed: true };
  if (code === 45047) return { action: 'park', reason: 'window_quota_used: errcode 45047', windowClosed: true };
  // The daily customer-service quota: a passive reply on the user's next interaction does not use it.
  if (code === 45009) return { action: 'park', reason: 'customer_service_quota_exhausted: errcode 45009', windowClosed: false };
  if (UNREACHABLE[code]) return { action: 'fail', reason: UNREACHABLE[code] };
  if (code === 48002) return { action: 'fail', reason: 'user_blocked_messages' };
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
