import { randomBytes } from 'node:crypto';
import type { WechatCipher } from './cipher';
import { openSealed, sealReply } from './envelope';
import { buildXml, parseXml, type XmlFields } from './xml';

/**
 * Passive replies: the answer to a push, inside its HTTP response (docs/wechat-protocol-notes.md
 * "Passive replies"). Rendered, sealed and read here, for wxreach's endpoint and the emulator alike.
 */

/** What the account's keys seal and open replies with (compatible and safe mode). */
export interface ReplyKeys {
  cipher: WechatCipher;
  token: string;
}

/** The body meaning "no reply"; an empty body means the same. Sent plaintext in every mode. */
export const NO_REPLY = 'success';

export function isNoReply(body: string): boolean {
  const trimmed = body.trim();
  return trimmed === '' || trimmed === NO_REPLY;
}

/** A text reply to a push: back to the user who pushed (its FromUserName), from the account (its ToUserName). */
export function textReply(push: { openid: string; account: string }, content: string, now: number): string {
  return buildXml({ ToUserName: push.openid, FromUserName: push.account, CreateTime: Math.floor(now / 1000), MsgType: 'text', Content: content });
}

/**
 * The reply as sent: sealed when the push came sealed (`sealed` holds the keys and the push's
 * timestamp), as it is otherwise. The push's nonce may be echoed; a fresh one is as good.
 */
export function replyBody(xml: string, sealed?: ReplyKeys & { timestamp: string }): string {
  return sealed ? sealReply(sealed.cipher, sealed.token, xml, sealed.timestamp, randomBytes(8).toString('hex')) : xml;
}

/**
 * The fields of a reply as WeChat reads it: a sealed one is checked (MsgSignature) and opened,
 * a plaintext one is refused when `sealedOnly` (safe mode). Throws with the reason.
 */
export async function openReply(body: string, keys: ReplyKeys | undefined, sealedOnly: boolean): Promise<XmlFields> {
  const outer = await parseXml(body);
  if (outer.Encrypt === undefined) {
    if (sealedOnly) throw new Error('safe mode requires an encrypted reply (<Encrypt>, <MsgSignature>)');
    return outer;
  }
  if (!keys) throw new Error('encrypted reply, but no AES key to open it');
  const { Encrypt, TimeStamp, Nonce, MsgSignature } = outer;
  if (!TimeStamp || !Nonce) throw new Error('encrypted reply lacks <TimeStamp> or <Nonce>');
  return parseXml(openSealed(keys.cipher, keys.token, Encrypt, TimeStamp, Nonce, MsgSignature));
}
