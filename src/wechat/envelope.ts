import { buildXml } from './xml';
import type { WechatCipher } from './cipher';
import { signatureMatches, wechatSignature } from './signature';

/**
 * Safe-mode request body WeChat posts: only the addressee and the ciphertext. An account's pushes
 * name it as ToUserName (its gh_ id); a third-party platform's authorisation events as AppId.
 */
export function sealPush(cipher: WechatCipher, token: string, addressee: { ToUserName: string } | { AppId: string }, xml: string, timestamp: string, nonce: string) {
  const encrypt = cipher.encrypt(xml);
  return { body: buildXml({ ...addressee, Encrypt: encrypt }), msgSignature: wechatSignature([token, timestamp, nonce, encrypt]) };
}

/** Sealed passive reply (docs/wechat-protocol-notes.md "Passive replies"): Encrypt, MsgSignature, TimeStamp (capital S), Nonce. */
export function sealReply(cipher: WechatCipher, token: string, xml: string, timestamp: string, nonce: string): string {
  const encrypt = cipher.encrypt(xml);
  return buildXml({
    Encrypt: encrypt,
    MsgSignature: wechatSignature([token, timestamp, nonce, encrypt]),
    TimeStamp: Number(timestamp),
    Nonce: nonce,
  });
}

export class EnvelopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvelopeError';
  }
}

/** Checks msg_signature over the ciphertext, then decrypts (which also checks the appid). */
export function openSealed(cipher: WechatCipher, token: string, encrypt: string, timestamp: string, nonce: string, msgSignature: unknown): string {
  if (!signatureMatches(msgSignature, [token, timestamp, nonce, encrypt])) {
    throw new EnvelopeError('msg_signature does not match');
  }
  return cipher.decrypt(encrypt);
}
