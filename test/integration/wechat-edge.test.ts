import { WechatCipher } from '../../src/wechat/cipher';
import { wechatSignature } from '../../src/wechat/signature';
import { AES_KEY, APP, USER, startHarness, type Harness } from '../helpers/harness';
import { postPush, receiptXml } from '../helpers/push';

describe('/wechat rejects what is not from WeChat, and changes nothing', () => {
  let h: Harness;
  let id: string;
  let msgid: string;
  beforeAll(async () => {
    h = await startHarness({ emulator: { aesKey: AES_KEY, mode: 'compatible' } });
    h.emulator.control.setReceiptOutcome({ openid: USER, outcome: 'none' });
    const { body } = await h.enqueue({ openid: USER, template: 'order_paid', data: { order_no: 'A1', amount: '1' } });
    id = body.id as string;
    msgid = (await h.waitFor(id, 'awaiting_receipt')).msgid as string;
  });
  afterAll(async () => {
    await h.close();
  });

  const token = APP.token;
  const unchanged = async () => {
    const n = await h.get(id);
    expect(n.status).toBe('awaiting_receipt');
    expect(h.emulator.control.stats().calls['/cgi-bin/message/custom/send'] ?? 0).toBe(0);
  };

  it('answers the URL verification only with a good, fresh signature', async () => {
    const verify = (ts: string, sig = wechatSignature([token, ts, '42'])) =>
      fetch(`${h.service.url}/wechat?signature=${sig}&timestamp=${ts}&nonce=42&echostr=hello123`);
    const fresh = await verify(String(Math.floor(Date.now() / 1000)));
    expect(fresh.status).toBe(200);
    expect(await fresh.text()).toBe('hello123');
    expect((await verify('1700000000')).status).toBe(403);
    expect((await verify(String(Math.floor(Date.now() / 1000)), '0'.repeat(40))).status).toBe(401);
  });

  it('forged signature → 401', async () => {
    const r = await postPush(h.service.url, receiptXml(USER, msgid, 'failed:user block'), { token, forge: true });
    expect(r.status).toBe(401);
    await unchanged();
  });

  it('stale timestamp → 403', async () => {
    const r = await postPush(h.service.url, receiptXml(USER, msgid, 'failed:user block'), { token, timestamp: Math.floor(Date.now() / 1000) - 3600 });
    expect(r.status).toBe(403);
    await unchanged();
  });

  it('ciphertext for a foreign appid → 401', async () => {
    const r = await postPush(h.service.url, receiptXml(USER, msgid, 'failed:user block'), { token, aes: { key: AES_KEY, appId: 'wxffffffffffffffff' } });
    expect(r.status).toBe(401);
    await unchanged();
  });

  it('bad msg_signature → 401', async () => {
    const cipher = new WechatCipher(AES_KEY, APP.appId);
    const ts = String(Math.floor(Date.now() / 1000));
    const body = `<xml><ToUserName><![CDATA[gh]]></ToUserName><Encrypt><![CDATA[${cipher.encrypt(receiptXml(USER, msgid, 'failed:user block'))}]]></Encrypt></xml>`;
    const url = `${h.service.url}/wechat?signature=${wechatSignature([token, ts, '9'])}&timestamp=${ts}&nonce=9&encrypt_type=aes&msg_signature=${'a'.repeat(40)}`;
    const r = await fetch(url, { method: 'POST', body });
    expect(r.status).toBe(401);
    await unchanged();
  });

  it('malformed XML → 400', async () => {
    const r = await postPush(h.service.url, '<xml><FromUserName>oX</FromUserName', { token });
    expect(r.status).toBe(400);
    await unchanged();
  });

  it('an entity bomb → 400, fast', async () => {
    const bomb =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
      '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>' +
      `<xml><ToUserName>gh</ToUserName><FromUserName>${USER}</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType>` +
      `<Event>TEMPLATESENDJOBFINISH</Event><MsgID>${msgid}</MsgID><Status>&lol3;</Status></xml>`;
    const r = await postPush(h.service.url, bomb, { token });
    expect(r.status).toBe(400);
    await unchanged();
  });

  it('a 1 MB body → 413', async () => {
    const big = receiptXml(USER, msgid, 'failed:user block').replace('</xml>', `<Pad>${'x'.repeat(1024 * 1024)}</Pad></xml>`);
    const r = await postPush(h.service.url, big, { token });
    expect(r.status).toBe(413);
    await unchanged();
  });

  it('an encrypted push without an AES key configured, or a push missing fields → 400', async () => {
    const r = await postPush(h.service.url, '<xml><ToUserName>gh</ToUserName></xml>', { token });
    expect(r.status).toBe(400);
    await unchanged();
  });

  it('and a genuine receipt, in compatible mode, still goes through', async () => {
    const r = await postPush(h.service.url, receiptXml(USER, msgid, 'failed:user block'), { token, aes: { key: AES_KEY, appId: APP.appId } });
    expect(r).toEqual({ status: 200, text: 'success' });
    await h.waitFor(id, ['fallback_sent', 'awaiting_interaction']);
  });
});
