import { randomBytes } from 'node:crypto';
import { WechatCipher } from '../../src/wechat/cipher';
import { sealPush } from '../../src/wechat/envelope';
import { wechatSignature } from '../../src/wechat/signature';
import { buildXml, parseXml, type XmlFields } from '../../src/wechat/xml';

export interface SignedPushOptions {
  token: string;
  /** Safe mode: encrypt with this key for this appid. */
  aes?: { key: string; appId: string };
  /** Override the query timestamp (seconds) to test freshness. */
  timestamp?: number;
  /** Override the query nonce (with `timestamp`: the same signature again). */
  nonce?: string;
  /** Break the signature on purpose. */
  forge?: boolean;
}

/** Posts a push to a wxreach /wechat endpoint exactly as WeChat would (tests speak to the real server). */
export async function postPush(baseUrl: string, xmlOrFields: string | Record<string, string | number>, o: SignedPushOptions) {
  const xml = typeof xmlOrFields === 'string' ? xmlOrFields : buildXml(xmlOrFields);
  const timestamp = String(o.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = o.nonce ?? randomBytes(6).toString('hex');
  const signature = o.forge ? 'f'.repeat(40) : wechatSignature([o.token, timestamp, nonce]);
  const query = new URLSearchParams({ signature, timestamp, nonce });
  let body = xml;
  if (o.aes) {
    const sealed = sealPush(new WechatCipher(o.aes.key, o.aes.appId), o.token, 'gh_test', xml, timestamp, nonce);
    body = sealed.body;
    query.set('encrypt_type', 'aes');
    query.set('msg_signature', sealed.msgSignature);
  }
  const res = await fetch(`${baseUrl}/wechat?${query}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body });
  return { status: res.status, text: await res.text() };
}

/** The fields of a passive reply, decrypted first when `aes` is given (safe mode). */
export async function openReply(text: string, aes?: { key: string; appId: string }): Promise<XmlFields> {
  const fields = await parseXml(text);
  return aes ? parseXml(new WechatCipher(aes.key, aes.appId).decrypt(fields.Encrypt)) : fields;
}

export function receiptXml(openid: string, msgid: string, status: string, createTime = Math.floor(Date.now() / 1000)) {
  return buildXml({
    ToUserName: 'gh_test',
    FromUserName: openid,
    CreateTime: createTime,
    MsgType: 'event',
    Event: 'TEMPLATESENDJOBFINISH',
    MsgID: BigInt(msgid),
    Status: status,
  });
}
