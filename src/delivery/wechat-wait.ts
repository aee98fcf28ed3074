import type { CircuitView } from '../wechat/circuit-breaker';
import { unlessRepeated, type Lifecycle } from './lifecycle';
import type { Notification } from './notification';
import type { WechatCall } from './wechat-call';

/** How long a notice waits before trying again when WeChat gave no answer or no token. */
const RETRY_MS = 2000;
/** Spread of the retries, so notices that waited together do not all call together. */
const JITTER_MS = 1000;

export interface WechatWaitSettings {
  /** Beyond this much waiting in one leg, the notice ends `failed` (`wechat_unavailable`). */
  maxWaitMs: number;
  /** Whether calls are paused (the circuit breaker) and until when. */
  circuit: () => CircuitView;
  /** When the store was last found unreachable (its pushes may still be on their way), or null. */
  storeUnreachableAt: () => number | null;
}

/**
 * WeChat gave no answer (an outage) or no access token: the notice waits without using up its
 * attempts, since nothing is wrong with it. The first wait of a leg is recorded as
 * `waiting: "<status>@<ms>"`; beyond `maxWaitMs` of waiting in that leg the notice ends `failed`
 * (`wechat_unavailable`) so that every accepted notice still ends. One history line per cause,
 * not one per try.
 */
export async function waitForWechat(
  lifecycle: Lifecycle,
  n: Notification,
  from: 'queued' | 'fallback_pending',
  reason: string,
  now: number,
  settings: WechatWaitSettings,
  set: Record<string, string> = {},
  /** The call that got no answer (or no token), for the history. */
  call?: WechatCall,
): Promise<void> {
  const [leg, since] = (n.waiting ?? '').split('@');
  const waitingSince = leg === from && since ? Number(since) : now;
  if (now - waitingSince >= settings.maxWaitMs) {
    const detail = `${reason}; gave up after waiting ${Math.round((now - waitingSince) / 1000)} s for WeChat`;
    await lifecycle.move('fail', n, { detail, set: { ...set, reason: 'wechat_unavailable' }, dueAt: null, call }, { from: [from] });
    return;
  }
  const circuit = settings.circuit();
  const retryAt = Math.max(now + RETRY_MS, circuit.probeAt ?? 0) + Math.floor(Math.random() * JITTER_MS);
  const detail = unlessRepeated(n, `${reason}; waiting for WeChat`);
  await lifecycle.move('retryLater', n, { detail, set: { ...set, waiting: `${from}@${waitingSince}` }, dueAt: retryAt, call }, { from: [from] });
}
