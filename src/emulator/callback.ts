import { Agent, request } from 'undici';
import type { WechatCipher } from '../wechat/cipher';
import { outboundPush, type OutboundPush, type PushMode } from '../wechat/outbound-push';

export type PushFields = Record<string, string | number | bigint>;

/** Where one account's pushes go and how they are signed and sealed (also how its passive replies are read). */
export interface PushTarget {
  url: string;
  token: string;
  mode: PushMode;
  /** The account's original id (gh_…): ToUserName of a safe-mode body. */
  account: string;
  cipher?: WechatCipher;
}

/** The first 2xx answer, or why every attempt failed. */
export type DeliveryResult = { ok: true; status: number; body: string; attempts: number } | { ok: false; error: string; attempts: number };

export interface CallbackCounters {
  attempts: number;
  delivered: number;
  failed: number;
}

export interface DeliveryOptions {
  timeoutMs: number;
  /** Re-sends after the first attempt. */
  retries: number;
}

export const newCounters = (): CallbackCounters => ({ attempts: 0, delivered: 0, failed: 0 });

/** A user message, event or receipt as WeChat posts it to `target` (with the sender's openid in the query). */
export function accountPush(target: PushTarget, xml: string, openid: string): () => OutboundPush {
  const seal = target.mode === 'plain' || !target.cipher ? undefined : { mode: target.mode, cipher: target.cipher, account: target.account };
  return () => outboundPush(target.url, xml, { token: target.token, openid, seal });
}

/**
 * Posts pushes as WeChat does: a re-send when there is no 2xx answer within the timeout, up to
 * `retries` more times. Each attempt is built afresh (signed with the wall-clock timestamp, since
 * the receiver checks freshness against its own clock; new nonce and random prefix), like a real
 * re-send may be. One keep-alive pool for every account's pushes.
 */
export class CallbackClient {
  private readonly agent = new Agent({ keepAliveTimeout: 10_000, connections: 64 });
  private closed = false;

  constructor(private readonly defaults: DeliveryOptions) {}

  async deliver(build: () => OutboundPush, counters: CallbackCounters, options: Partial<DeliveryOptions> = {}): Promise<DeliveryResult> {
    const { timeoutMs, retries } = { ...this.defaults, ...options };
    let lastError = 'the emulator is closing';
    let attempts = 0;
    for (let i = 0; i <= retries && !this.closed; i++) {
      attempts++;
      counters.attempts++;
      try {
        const { status, body } = await this.post(build(), timeoutMs);
        if (status >= 200 && status < 300) {
          counters.delivered++;
          return { ok: true, status, body, attempts };
        }
        lastError = `callback answered HTTP ${status}`;
      } catch (err) {
        lastError = `callback failed: ${(err as Error).message}`;
      }
    }
    counters.failed++;
    return { ok: false, error: lastError, attempts };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.agent.destroy();
  }

  private async post(push: OutboundPush, timeoutMs: number): Promise<{ status: number; body: string }> {
    const res = await request(push.url, {
      method: 'POST',
      dispatcher: this.agent,
      headers: { 'content-type': 'text/xml' },
      body: push.body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: res.statusCode, body: await res.body.text() };
  }
}
