import { WechatCipher } from '../../src/wechat/cipher';
import { outboundPush } from '../../src/wechat/outbound-push';
import { signatureMatches } from '../../src/wechat/signature';
import { buildXml, parseXml } from '../../src/wechat/xml';

const TOKEN = 'testtoken';
const cipher = new WechatCipher('abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG', 'wx0123456789abcdef');
const xml = buildXml({ ToUserName: 'gh_abc', FromUserName: 'oUSER', CreateTime: 1700000000, MsgType: 'text', Content: 'hi', MsgId: 1234567890123456n });
const query = (url: string) => new URL(url).searchParams;

describe('outbound pushes, signed (and sealed) as WeChat sends them', () => {
  it('plaintext: signature over token, timestamp and nonce; openid in the query; the URL keeps its own query', () => {
    const push = outboundPush('http://bot.example/wx?tenant=7', xml, { token: TOKEN, timestamp: '1700000000', nonce: '42', openid: 'oUSER' });
    const q = query(push.url);
    expect(q.get('tenant')).toBe('7');
    expect(q.get('openid')).toBe('oUSER');
    expect(signatureMatches(q.get('signature'), [TOKEN, '1700000000', '42'])).toBe(true);
    expect(q.get('encrypt_type')).toBeNull();
    expect(push.body).toBe(xml);
  });

  it('defaults to the current time and a fresh nonce', () => {
    const q = query(outboundPush('http://h/wechat', xml, { token: TOKEN }).url);
    expect(Math.abs(Number(q.get('timestamp')) - Date.now() / 1000)).toBeLessThan(5);
    expect(q.get('nonce')).toMatch(/^\d+$/);
    expect(q.get('nonce')).not.toBe(query(outboundPush('http://h/wechat', xml, { token: TOKEN }).url).get('nonce'));
  });

  it('safe mode: only ToUserName and Encrypt, msg_signature over the ciphertext', async () => {
    const push = outboundPush('http://h/wechat', xml, { token: TOKEN, timestamp: '1700000000', nonce: '7', seal: { mode: 'safe', cipher, account: 'gh_abc' } });
    const q = query(push.url);
    const body = await parseXml(push.body);
    expect(Object.keys(body)).toEqual(['ToUserName', 'Encrypt']);
    expect(q.get('encrypt_type')).toBe('aes');
    expect(signatureMatches(q.get('msg_signature'), [TOKEN, '1700000000', '7', body.Encrypt])).toBe(true);
    expect(cipher.decrypt(body.Encrypt)).toBe(xml);
  });

  it('compatible mode: the plaintext fields and the Encrypt of the same packet', async () => {
    const push = outboundPush('http://h/wechat', xml, { token: TOKEN, timestamp: '1700000000', nonce: '7', seal: { mode: 'compatible', cipher, account: 'gh_abc' } });
    const body = await parseXml(push.body);
    expect(body).toMatchObject({ FromUserName: 'oUSER', Content: 'hi', MsgId: '1234567890123456' });
    expect(cipher.decrypt(body.Encrypt)).toBe(xml);
    expect(signatureMatches(query(push.url).get('msg_signature'), [TOKEN, '1700000000', '7', body.Encrypt])).toBe(true);
  });
});
