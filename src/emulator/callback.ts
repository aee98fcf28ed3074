import { Agent, request } from 'undici';
import type { WechatCipher } from '../wechat/cipher';
import { outboundPush, type PushMode, type PushSigning } from '../wechat/outbound-push';
import { buildXml } from '../wechat/xml';

export type PushFields = Record<string, string | number | bigint>;

export interface CallbackConfig {
  token: string;
  mode: PushMode;
  account: string;
  cipher?: WechatCipher;
  timeoutMs: number;
  retries: number;
}

/** The first 2xx answer, or why every attempt failed. */
export type DeliveryResult = { ok: true; status: number; body: string; attempts: number } | { ok: false; error: string; attempts: number };

export interface CallbackCounters {
  attempts: number;
  delivered: number;
  failed: number;
}

/**
 * Posts pushes to the account's server as WeChat does: signed query (wall-clock timestamp, since
 * the receiver checks freshness against its own clock), the XML body in the configured mode, and a
 * re-send when there is no 2xx answer within the timeout, up to `retries` more times.
 */
export class CallbackClient {
  url: string | undefined;
  readonly counters: CallbackCounters = { attempts: 0, delivered: 0, failed: 0 };
  private readonly agent: Agent;
  private readonly seal: PushSigning['seal'];
  private closed = false;

  constructor(
    url: string | undefined,
    private readonly cfg: CallbackConfig,
  ) {
    this.url = url;
    this.agent = new Agent({ keepAliveTimeout: 10_000, connections: 64 });
    this.seal = cfg.mode === 'plain' || !cfg.cipher ? undefined : { mode: cfg.mode, cipher: cfg.cipher, account: cfg.account };
  }

  async deliver(fields: PushFields, openid: string): Promise<DeliveryResult> {
    const xml = buildXml(fields);
    let lastError = 'no callback URL configured';
    let attempts = 0;
    for (let i = 0; i <= this.cfg.retries && this.url && !this.closed; i++) {
      attempts++;
      this.counters.attempts++;
      try {
        const { status, body } = await this.post(this.url, xml, openid);
        if (status >= 200 && status < 300) {
          this.counters.delivered++;
          return { ok: true, status, body, attempts };
        }
        lastError = `callback answered HTTP ${status}`;
      } catch (err) {
        lastError = `callback failed: ${(err as Error).message}`;
      }
    }
    this.counters.failed++;
    return { ok: false, error: lastError, attempts };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.agent.destroy();
  }

  /** Each attempt is signed and sealed afresh (new timestamp, nonce and random prefix), like a real re-send may be. */
  private async post(url: string, xml: string, openid: string): Promise<{ status: number; body: string }> {
    const push = outboundPush(url, xml, { token: this.cfg.token, openid, seal: this.seal });
    const res = await request(push.url, {
      method: 'POST',
      dispatcher: this.agent,
      headers: { 'content-type': 'text/xml' },
      body: push.body,
      headersTimeout: this.cfg.timeoutMs,
      bodyTimeout: this.cfg.timeoutMs,
      signal: AbortSignal.timeout(this.cfg.timeoutMs),
    });
    return { status: res.statusCode, body: await res.body.text() };
  }
}
