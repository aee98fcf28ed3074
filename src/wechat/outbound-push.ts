import { randomBytes } from 'node:crypto';
import type { WechatCipher } from './cipher';
import { sealPush } from './envelope';
import { wechatSignature } from './signature';
import { buildXml } from './xml';

/** How an account's server takes pushes: plaintext, compatible (plaintext fields plus <Encrypt>) or safe (only <Encrypt>). */
export type PushMode = 'plain' | 'compatible' | 'safe';

export interface PushSigning {
  /** The Token the receiving server checks signatures with. */
  token: string;
  /** Unix seconds; default now. */
  timestamp?: string;
  /** Default: a fresh random number, like WeChat's. */
  nonce?: string;
  /** The sender's openid, which current pushes carry in the query. */
  openid?: string;
  /**
   * Compatible or safe mode: sealed with `cipher`; `account` (gh_…) is the ToUserName of a
   * safe-mode body, or, for a third-party platform's authorisation event, `component` its AppId.
   */
  seal?: { mode: Exclude<PushMode, 'plain'>; cipher: WechatCipher } & ({ account: string } | { component: string });
}

/** A push ready to post (as text/xml). */
export interface OutboundPush {
  url: string;
  body: string;
}

/**
 * One push as WeChat posts it to an account's server (docs/wechat-protocol-notes.md "Signatures"):
 * `signature`, `timestamp`, `nonce` (and `openid`) added to `url`'s query, and the XML as the body;
 * sealed, the query also says `encrypt_type=aes` with the `msg_signature` of the ciphertext. The
 * emulator, the forwarder and the tests all send pushes through this.
 */
export function outboundPush(url: string, xml: string, o: PushSigning): OutboundPush {
  const timestamp = o.timestamp ?? String(Math.floor(Date.now() / 1000));
  const nonce = o.nonce ?? String(randomBytes(4).readUInt32BE(0));
  const target = new URL(url);
  const q = target.searchParams;
  q.set('signature', wechatSignature([o.token, timestamp, nonce]));
  q.set('timestamp', timestamp);
  q.set('nonce', nonce);
  if (o.openid !== undefined) q.set('openid', o.openid);
  if (!o.seal) return { url: target.toString(), body: xml };
  const sealed = seal(xml, o.seal, o.token, timestamp, nonce);
  q.set('encrypt_type', 'aes');
  q.set('msg_signature', sealed.msgSignature);
  return { url: target.toString(), body: sealed.body };
}

function seal(xml: string, s: NonNullable<PushSigning['seal']>, token: string, timestamp: string, nonce: string) {
  if (s.mode === 'safe') return sealPush(s.cipher, token, 'component' in s ? { AppId: s.component } : { ToUserName: s.account }, xml, timestamp, nonce);
  // Compatible mode: the plaintext fields plus <Encrypt> in one packet.
  const encrypt = s.cipher.encrypt(xml);
  return {
    body: `${xml.slice(0, -'</xml>'.length)}${buildXml({ Encrypt: encrypt }).slice('<xml>'.length)}`,
    msgSignature: wechatSignature([token, timestamp, nonce, encrypt]),
  };
}
