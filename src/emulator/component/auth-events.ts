import { randomBytes } from 'node:crypto';
import type { WechatCipher } from '../../wechat/cipher';
import { outboundPush, type OutboundPush } from '../../wechat/outbound-push';
import { wechatSignature } from '../../wechat/signature';
import { buildXml } from '../../wechat/xml';
import { newCounters, type DeliveryOptions, type DeliveryResult } from '../callback';
import type { EmulatorCore } from '../core';

/** One push to the authorisation-event URL and what became of it (for tests). */
export interface AuthEventRecord {
  /** ISO time on the virtual clock. */
  at: string;
  /** The decrypted packet's fields: AppId, CreateTime, InfoType, … */
  fields: Record<string, string>;
  delivered: boolean;
  status?: number;
  /** The receiver's answer body (WeChat expects `success`). */
  answer?: string;
  error?: string;
}

export interface ComponentKeys {
  appId: string;
  token: string;
  cipher: WechatCipher;
}

const KEPT_RECORDS = 1000;

/**
 * The authorisation-event body is `<xml><AppId/><Encrypt/></xml>` (not the ToUserName of account
 * pushes), with signature, timestamp, nonce, encrypt_type=aes and msg_signature in the query.
 */
function authEventPush(url: string, xml: string, keys: ComponentKeys): () => OutboundPush {
  return () => {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = String(randomBytes(4).readUInt32BE(0));
    const encrypt = keys.cipher.encrypt(xml);
    const push = outboundPush(url, buildXml({ AppId: keys.appId, Encrypt: encrypt }), { token: keys.token, timestamp, nonce });
    const target = new URL(push.url);
    target.searchParams.set('encrypt_type', 'aes');
    target.searchParams.set('msg_signature', wechatSignature([keys.token, timestamp, nonce, encrypt]));
    return { url: target.toString(), body: push.body };
  };
}

/** Pushes to the component's authorisation-event URL (tickets, (un)authorisations) and keeps a record of each. */
export class AuthEvents {
  readonly counters = newCounters();
  private readonly kept: AuthEventRecord[] = [];

  constructor(
    private readonly core: EmulatorCore,
    private readonly keys: ComponentKeys,
  ) {}

  /**
   * `fields` follow AppId and CreateTime. Without a URL, or with `failure` (an injected fault), the
   * event is not sent and is recorded as undelivered.
   */
  async push(url: string | undefined, fields: Record<string, string | number>, o: { failure?: string; delivery?: Partial<DeliveryOptions> } = {}): Promise<DeliveryResult> {
    const all = { AppId: this.keys.appId, CreateTime: this.core.clock.seconds(), ...fields };
    const record: AuthEventRecord = { at: this.core.clock.iso(), fields: Object.fromEntries(Object.entries(all).map(([k, v]) => [k, String(v)])), delivered: false };
    this.kept.push(record);
    if (this.kept.length > KEPT_RECORDS) this.kept.shift();
    const result: DeliveryResult =
      o.failure || !url
        ? { ok: false, error: o.failure ?? 'no authorisation-event URL configured', attempts: 0 }
        : await this.core.track(this.core.callback.deliver(authEventPush(url, buildXml(all), this.keys), this.counters, o.delivery));
    if (result.ok) Object.assign(record, { delivered: true, status: result.status, answer: result.body });
    else record.error = result.error;
    return result;
  }

  records(): AuthEventRecord[] {
    return this.kept.map((r) => ({ ...r, fields: { ...r.fields } }));
  }

  clear(): void {
    this.kept.length = 0;
  }
}
