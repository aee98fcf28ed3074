import { Agent, request } from 'undici';
import type { WechatCipher } from '../wechat/cipher';
import { sealPush } from '../wechat/envelope';
import { wechatSignature } from '../wechat/signature';
import { buildXml } from '../wechat/xml';
import type { IdSource } from './ids';
import type { PushMode } from './options';

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
  private closed = false;

  constructor(
    url: string | undefined,
    private readonly cfg: CallbackConfig,
    private readonly ids: IdSource,
  ) {
    this.url = url;
    this.agent = new Agent({ keepAliveTimeout: 10_000, connections: 64 });
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

  private async post(url: string, xml: string, openid: string): Promise<{ status: number; body: string }> {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = this.ids.nonce();
    const target = new URL(url);
    const q = target.searchParams;
    q.set('signature', wechatSignature([this.cfg.token, timestamp, nonce]));
    q.set('timestamp', timestamp);
    q.set('nonce', nonce);
    q.set('openid', openid);
    const body = this.body(xml, timestamp, nonce, q);
    const res = await request(target, {
      method: 'POST',
      dispatcher: this.agent,
      headers: { 'content-type': 'text/xml' },
      body,
      headersTimeout: this.cfg.timeoutMs,
      bodyTimeout: this.cfg.timeoutMs,
      signal: AbortSignal.timeout(this.cfg.timeoutMs),
    });
    return { status: res.statusCode, body: await res.body.text() };
  }

  /** Each attempt is sealed afresh (new random prefix), like a real re-send may be. */
  private body(xml: string, timestamp: string, nonce: string, q: URLSearchParams): string {
    const { cipher, mode, token, account } = this.cfg;
    if (mode === 'plain' || !cipher) return xml;
    q.set('encrypt_type', 'aes');
    if (mode === 'safe') {
      const sealed = sealPush(cipher, token, account, xml, timestamp, nonce);
      q.set('msg_signature', sealed.msgSignature);
      return sealed.body;
    }
    // Compatible mode: the plaintext fields plus <Encrypt> in one packet.
    const encrypt = cipher.encrypt(xml);
    q.set('msg_signature', wechatSignature([token, timestamp, nonce, encrypt]));
    return `${xml.slice(0, -'</xml>'.length)}${buildXml({ Encrypt: encrypt }).slice('<xml>'.length)}`;
  }
}
