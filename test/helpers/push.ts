import { WechatCipher } from '../../src/wechat/cipher';
import { outboundPush } from '../../src/wechat/outbound-push';
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
  const push = outboundPush(`${baseUrl}/wechat`, xml, {
    token: o.token,
    timestamp: o.timestamp === undefined ? undefined : String(o.timestamp),
    nonce: o.nonce,
    seal: o.aes && { mode: 'safe', cipher: new WechatCipher(o.aes.key, o.aes.appId), account: 'gh_test' },
  });
  const url = new URL(push.url);
  if (o.forge) url.searchParams.set('signature', 'f'.repeat(40));
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: push.body });
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
