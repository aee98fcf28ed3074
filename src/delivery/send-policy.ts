import { TOKEN_ERRCODES, WechatApiError, WechatTransportError } from '../wechat/api-errors';

/** What to do after a template send failed. The one table of issue 4; every row is tested. */
export type TemplateDecision =
  | { action: 'retry'; reason: string }
  | { action: 'wait'; reason: string }
  | { action: 'fallback'; reason: string; template?: 'invalid' | 'quota_exhausted' }
  | { action: 'fail'; reason: string };

/** What to do after a customer-service send failed. */
export type CustomDecision =
  | { action: 'retry'; reason: string }
  | { action: 'wait'; reason: string }
  | { action: 'park'; reason: string }
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

export function decideTemplateFailure(err: unknown): TemplateDecision {
  if (err instanceof WechatTransportError) return { action: 'retry', reason: `transient: ${err.reason}` };
  if (!(err instanceof WechatApiError)) return { action: 'retry', reason: `transient: ${(err as Error)?.message ?? String(err)}` };
  const code = err.errcode;
  if (isTokenRefusal(err)) return { action: 'wait', reason: `access token unavailable: errcode ${code}` };
  if (TRANSIENT.has(code) || TOKEN_ERRCODES.has(code)) return { action: 'retry', reason: `transient: errcode ${code}` };
  if (UNREACHABLE[code]) return { action: 'fail', reason: UNREACHABLE[code] };
  if (TEMPLATE_UNUSABLE.has(code)) return { action: 'fallback', reason: `template_unusable: errcode ${code}`, template: 'invalid' };
  if (code === 43101) return { action: 'fallback', reason: 'user_refused_template: errcode 43101' };
  if (code === 47003) return { action: 'fallback', reason: `bad_data: ${err.errmsg.replace(/\s*rid:.*$/, '')}` };
  if (code === 45009) return { action: 'fallback', reason: 'template_quota_exhausted: errcode 45009', template: 'quota_exhausted' };
  return { action: 'fallback', reason: `template_refused: errcode ${code}` };
}

export function decideCustomFailure(err: unknown): CustomDecision | { action: 'unknown'; reason: string } {
  if (err instanceof WechatTransportError) {
    // The call may have reached WeChat: a customer-service message has no idempotency key, so never repeat it.
    return err.sent === 'no' ? { action: 'retry', reason: `transient: ${err.reason}` } : { action: 'unknown', reason: 'outcome_unknown' };
  }
  if (!(err instanceof WechatApiError)) return { action: 'unknown', reason: 'outcome_unknown' };
  const code = err.errcode;
  if (isTokenRefusal(err)) return { action: 'wait', reason: `access token unavailable: errcode ${code}` };
  if (TRANSIENT.has(code) || TOKEN_ERRCODES.has(code) || code === 45009) return { action: 'retry', reason: `transient: errcode ${code}` };
  if (code === 45015) return { action: 'park', reason: 'window_closed: errcode 45015' };
  if (code === 45047) return { action: 'park', reason: 'window_quota_used: errcode 45047' };
  if (UNREACHABLE[code]) return { action: 'fail', reason: UNREACHABLE[code] };
  if (code === 48002) return { action: 'fail', reason: 'user_blocked_messages' };
  return { action: 'fail', reason: `customer_service_refused: errcode ${code}` };
}

/**
 * The token endpoint refused (wrong secret, IP not whitelisted…): nothing was sent and nothing
 * will be until a person fixes it, so the notice waits without using up its attempts.
 */
function isTokenRefusal(err: WechatApiError): boolean {
  return err.path.endsWith('/token') || err.path.endsWith('/stable_token');
}

/** Exponential backoff with jitter (half fixed, half random) so retries of many notices spread out. */
export function backoffMs(attempt: number, baseMs: number, random: () => number = Math.random): number {
  const exp = Math.min(baseMs * 2 ** Math.max(0, attempt - 1), 10 * 60_000);
  return Math.round(exp / 2 + (random() * exp) / 2);
}
