import { WechatCipher } from '../../src/wechat/cipher';
import { wechatSignature } from '../../src/wechat/signature';
import { AES_KEY, APP, TEMPLATES, USER, startHarness, type Harness } from '../helpers/harness';
import { buildXml, parseXml } from '../../src/wechat/xml';
import { postPush, receiptXml } from '../helpers/push';

const aes = { key: AES_KEY, appId: APP.appId };
const seconds = () => Math.floor(Date.now() / 1000);


/** A notice whose template went out and whose receipt is held back: tests push its receipt themselves. */
async function awaitingReceipt(h: Harness): Promise<{ id: string; msgid: string }> {
  h.emulator.control.setReceiptOutcome({ openid: USER, outcome: 'none' });
  const { body } = await h.enqueue({ openid: USER, template: 'order_paid', data: { order_no: 'A1', amount: '1' } });
  const id = body.id as string;
  return { id, msgid: (await h.waitFor(id, 'awaiting_receipt')).msgid as string };
}

describe('/wechat rejects what is not from WeChat, and changes nothing', () => {
  let h: Harness;
  let id: string;
  let msgid: string;
  beforeAll(async () => {
    h = await startHarness({ emulator: { aesKey: AES_KEY, mode: 'compatible' } });
    ({ id, msgid } = await awaitingReceipt(h));
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

  it('a plaintext push (no encrypt_type, so nothing signs the body) → 401', async () => {
    const r = await postPush(h.service.url, receiptXml(USER, msgid, 'failed:user block'), { token });
    expect(r.status).toBe(401);
    await unchanged();
  });

  it('encrypt_type=aes without an <Encrypt> (plaintext fields only) → 401', async () => {
    const ts = String(seconds());
    const url = `${h.service.url}/wechat?signature=${wechatSignature([token, ts, '7'])}&timestamp=${ts}&nonce=7&encrypt_type=aes&msg_signature=${'b'.repeat(40)}`;
    const r = await fetch(url, { method: 'POST', body: receiptXml(USER, msgid, 'failed:user block') });
    expect(r.status).toBe(401);
    await unchanged();
  });

  it("a genuine receipt from another user carrying this notice's msgid changes nothing, and the history says so", async () => {
    // msgid links are kept per shard of an account's users: a user of USER's shard can reach the link
    const account = h.store.forAccount(h.config.wechat.appId as string);
    const shard = (openid: string) => account.newId(openid).slice(1, 3);
    let other = 0;
    while (shard(`oOTHER_user_${other}`) !== shard(USER)) other += 1;
    const r = await postPush(h.service.url, receiptXml(`oOTHER_user_${other}`, msgid, 'failed:user block'), { token, aes });
    expect(r).toEqual({ status: 200, text: 'success' });
    await unchanged();
    expect(JSON.stringify((await h.get(id)).history)).toContain(`receipt for msgid ${msgid} from another user ignored`);
  });

  it('malformed XML → 400', async () => {
    const r = await postPush(h.service.url, '<xml><FromUserName>oX</FromUserName', { token, aes });
    expect(r.status).toBe(400);
    await unchanged();
  });

  it.each([
    ['an unknown entity', (xml: string) => xml.replace('</Status>', '&bogus;</Status>'), /malformed XML: Invalid character entity/],
    ['an unterminated CDATA section', (xml: string) => xml.replace(']]></Status>', '</Status>'), /malformed XML/],
    ['a repeated field', (xml: string) => xml.replace('</xml>', '<Status><![CDATA[success]]></Status></xml>'), /field Status is repeated/],
  ])('a sealed receipt whose XML inside has %s → 400 with the reason, nothing changed', async (_name, spoil, reason) => {
    const r = await postPush(h.service.url, spoil(receiptXml(USER, msgid, 'failed:user block')), { token, aes });
    expect(r.status).toBe(400);
    expect(r.text).toMatch(reason);
    await unchanged();
  });

  it('an entity bomb → 400, fast', async () => {
    const bomb =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
      '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>' +
      `<xml><ToUserName>gh</ToUserName><FromUserName>${USER}</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType>` +
      `<Event>TEMPLATESENDJOBFINISH</Event><MsgID>${msgid}</MsgID><Status>&lol3;</Status></xml>`;
    const r = await postPush(h.service.url, bomb, { token, aes });
    expect(r.status).toBe(400);
    await unchanged();
  });

  it('a 1 MB body → 413', async () => {
    const big = receiptXml(USER, msgid, 'failed:user block').replace('</xml>', `<Pad>${'x'.repeat(1024 * 1024)}</Pad></xml>`);
    const r = await postPush(h.service.url, big, { token });
    expect(r.status).toBe(413);
    await unchanged();
  });

  it('a push missing fields → 400', async () => {
    const r = await postPush(h.service.url, '<xml><ToUserName>gh</ToUserName></xml>', { token, aes });
    expect(r.status).toBe(400);
    await unchanged();
  });

  it('and a genuine receipt, in compatible mode, still goes through', async () => {
    const r = await postPush(h.service.url, receiptXml(USER, msgid, 'failed:user block'), { token, aes });
    expect(r).toEqual({ status: 200, text: 'success' });
    await h.waitFor(id, ['fallback_sent', 'awaiting_interaction']);
  });
});

describe.each([
  ['plaintext mode (no AES key)', { aesKey: undefined, acceptPlaintext: false }],
  ['compatible mode with wechat.acceptPlaintext', { aesKey: AES_KEY, acceptPlaintext: true }],
])('%s: a signature is good for the one body it came with', (_mode, o) => {
  let h: Harness;
  let id: string;
  let msgid: string;
  const token = APP.token;
  beforeAll(async () => {
    h = await startHarness({
      emulator: { aesKey: o.aesKey, mode: o.aesKey ? 'compatible' : 'plain' },
      config: (c) => ({ ...c, wechat: { ...c.wechat, acceptPlaintext: o.acceptPlaintext } }),
    });
    ({ id, msgid } = await awaitingReceipt(h));
  });
  afterAll(async () => {
    await h.close();
  });

  const unchanged = async () => expect((await h.get(id)).status).toBe('awaiting_receipt');

  it('another body under a signature already used → 401; the same body again is a re-send, answered as before', async () => {
    const signed = { token, timestamp: seconds(), nonce: 'captured1' };
    const message = buildXml({ ToUserName: 'gh_test', FromUserName: USER, CreateTime: seconds(), MsgType: 'text', Content: 'hi', MsgId: '27000000000000001' });
    expect(await postPush(h.service.url, message, signed)).toEqual({ status: 200, text: 'success' });
    const forged = await postPush(h.service.url, receiptXml(USER, msgid, 'failed:user block'), signed);
    expect(forged.status).toBe(401);
    await unchanged();
    expect(await postPush(h.service.url, message, signed)).toEqual({ status: 200, text: 'success' });
  });

  it('a signature seen on a URL verification cannot carry a push', async () => {
    const ts = seconds();
    const verify = await fetch(`${h.service.url}/wechat?signature=${wechatSignature([token, String(ts), 'verify1'])}&timestamp=${ts}&nonce=verify1&echostr=e1`);
    expect(await verify.text()).toBe('e1');
    const forged = await postPush(h.service.url, receiptXml(USER, msgid, 'failed:user block'), { token, timestamp: ts, nonce: 'verify1' });
    expect(forged.status).toBe(401);
    await unchanged();
  });

  it('and a fresh signature with its own body still goes through', async () => {
    expect(await postPush(h.service.url, receiptXml(USER, msgid, 'failed:user block'), { token })).toEqual({ status: 200, text: 'success' });
    await h.waitFor(id, ['fallback_sent', 'awaiting_interaction']);
  });
});

describe('plaintext mode', () => {
  it('an encrypted push without an AES key configured → 400', async () => {
    const h = await startHarness();
    try {
      const r = await postPush(h.service.url, receiptXml(USER, '1', 'success'), { token: APP.token, aes });
      expect(r.status).toBe(400);
    } finally {
      await h.close();
    }
  });
});

describe('two events from one user in the same second', () => {
  it('a LOCATION report and a scan-to-follow are both handled: the follow opens the window and answers with the parked notice', async () => {
    const h = await startHarness();
    try {
      h.emulator.control.deleteTemplate(TEMPLATES.order_paid.id);
      const { body } = await h.enqueue({ openid: USER, template: 'order_paid', data: { order_no: 'L1', amount: '2.00' } });
      const parked = body.id as string;
      await h.waitFor(parked, 'awaiting_interaction');
      const event = (fields: Record<string, string | number>) =>
        buildXml({ ToUserName: 'gh_test', FromUserName: USER, CreateTime: 1_700_000_000, MsgType: 'event', ...fields });
      const location = await postPush(h.service.url, event({ Event: 'LOCATION', Latitude: '23.1', Longitude: '113.3', Precision: '50' }), { token: APP.token });
      expect(location).toEqual({ status: 200, text: 'success' });
      const follow = await postPush(h.service.url, event({ Event: 'subscribe', EventKey: 'qrscene_42', Ticket: 'TICKET' }), { token: APP.token });
      expect(follow.status).toBe(200);
      expect((await parseXml(follow.text)).Content).toBe('Your order L1 is paid: 2.00.');
      expect(await h.get(parked)).toMatchObject({ status: 'fallback_sent', channel: 'passive_reply' });
    } finally {
      await h.close();
    }
  });
});
