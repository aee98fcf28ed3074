import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { WechatCipher } from '../../src/wechat/cipher';
import { outboundPush } from '../../src/wechat/outbound-push';
import { wechatSignature } from '../../src/wechat/signature';
import { AES_KEY, APP, TEMPLATES, USER, startHarness, type Harness } from '../helpers/harness';
import { buildXml, parseXml } from '../../src/wechat/xml';
import { postPush, receiptXml } from '../helpers/push';
import { hookedStore } from '../helpers/store-proxy';

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

describe('/wechat reads bodies and paths as it always did (it answers on node:http, ahead of express)', () => {
  let h: Harness;
  const aesMode = { key: AES_KEY, appId: APP.appId };
  beforeAll(async () => {
    h = await startHarness({ emulator: { aesKey: AES_KEY, mode: 'compatible' } });
  });
  afterAll(async () => {
    await h.close();
  });

  /** A receipt for `msgid`, signed and sealed for the harness's account, as its URL (under `path`) and body. */
  const signedReceipt = (msgid: string, path = '/wechat') => {
    const push = outboundPush(`${h.service.url}${path}`, receiptXml(USER, msgid, 'success'), {
      token: APP.token,
      seal: { mode: 'safe', cipher: new WechatCipher(aesMode.key, aesMode.appId), account: 'gh_test' },
    });
    return { url: push.url, body: push.body };
  };

  it('a compressed body, or one in another charset, is decoded first; a charset nobody knows → 415, nothing changed', async () => {
    const gzipped = await awaitingReceipt(h);
    const { url, body } = signedReceipt(gzipped.msgid);
    const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/xml', 'content-encoding': 'gzip' }, body: gzipSync(body) });
    expect({ status: r.status, text: await r.text() }).toEqual({ status: 200, text: 'success' });
    expect((await h.waitFor(gzipped.id, 'delivered')).status).toBe('delivered');

    const latin1 = await awaitingReceipt(h);
    const other = signedReceipt(latin1.msgid);
    const r2 = await fetch(other.url, { method: 'POST', headers: { 'content-type': 'text/xml; charset=ISO-8859-1' }, body: Buffer.from(other.body, 'latin1') });
    expect(r2.status).toBe(200);
    expect((await h.waitFor(latin1.id, 'delivered')).status).toBe('delivered');

    const unknown = await awaitingReceipt(h);
    const third = signedReceipt(unknown.msgid);
    const r3 = await fetch(third.url, { method: 'POST', headers: { 'content-type': 'text/xml; charset=klingon' }, body: third.body });
    expect(r3.status).toBe(415);
    expect((await h.get(unknown.id)).status).toBe('awaiting_receipt');
  });

  it('a chunked body that grows past 64 KB → 413 at once (the rest is not read) and the connection is closed; nothing changed', async () => {
    const { id, msgid } = await awaitingReceipt(h);
    const { url, body } = signedReceipt(msgid);
    const target = new URL(url);
    const socket = connect(Number(target.port), target.hostname);
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString()));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => undefined); // a reset after the answer is fine
    socket.write(`POST ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n`);
    const padded = body.replace('</xml>', `<Pad>${'x'.repeat(70 * 1024)}</Pad></xml>`);
    for (let i = 0; i < padded.length; i += 8192) {
      const part = padded.slice(i, i + 8192);
      socket.write(`${Buffer.byteLength(part).toString(16)}\r\n${part}\r\n`);
    }
    await closed;
    expect(received).toMatch(/^HTTP\/1\.1 413 [^]*\r\nConnection: close\r\n[^]*"body_too_large"/i);
    expect((await h.get(id)).status).toBe('awaiting_receipt');
  });

  it('paths as express matched them: any case, a trailing slash, /wechat/<appid>; other paths and methods are not the edge\'s', async () => {
    const first = await awaitingReceipt(h);
    const upper = signedReceipt(first.msgid, '/WeChat/');
    expect((await fetch(upper.url, { method: 'POST', body: upper.body })).status).toBe(200);
    await h.waitFor(first.id, 'delivered');

    const second = await awaitingReceipt(h);
    const byAppid = signedReceipt(second.msgid, `/wechat/${APP.appId}/`);
    expect((await fetch(byAppid.url, { method: 'POST', body: byAppid.body })).status).toBe(200);
    await h.waitFor(second.id, 'delivered');

    const notAppid = await fetch(`${h.service.url}/wechat/not-an-appid`, { method: 'POST', body: '<xml/>' });
    expect({ status: notAppid.status, text: await notAppid.text() }).toEqual({ status: 404, text: 'no account not-an-appid here (not configured or not authorised)' });
    for (const [method, path] of [['PUT', '/wechat'], ['POST', '/wechat/a/b'], ['GET', '/wechatx']]) {
      const r = await fetch(`${h.service.url}${path}`, { method });
      expect({ method, path, status: r.status, body: await r.json() }).toEqual({ method, path, status: 404, body: { error: { code: 'not_found', message: `no route for ${method} ${path}` } } });
    }
  });
});

describe('a push whose handling fails unexpectedly', () => {
  it('is answered 500 in the API error shape and logged, as a failure on any route, and the notice is left for the re-send', async () => {
    let failing = false;
    const h = await startHarness({
      emulator: { aesKey: AES_KEY, mode: 'compatible' },
      wrapStore: (store) => hookedStore(store, (method, _args, call) => (failing && method === 'applyReceipts' ? Promise.reject(new Error('a bug in the store')) : call())),
    });
    try {
      const { id, msgid } = await awaitingReceipt(h);
      failing = true;
      const r = await postPush(h.service.url, receiptXml(USER, msgid, 'success'), { token: APP.token, aes: { key: AES_KEY, appId: APP.appId } });
      expect({ status: r.status, body: JSON.parse(r.text) }).toEqual({ status: 500, body: { error: { code: 'internal', message: 'internal error; the request can be retried' } } });
      const lines = h.logs().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(lines).toContainEqual(expect.objectContaining({ level: 'error', message: 'request failed', path: '/wechat', err: { name: 'Error', message: 'a bug in the store' } }));
      failing = false;
      // WeChat sends it again, and this time it goes through
      expect(await postPush(h.service.url, receiptXml(USER, msgid, 'success'), { token: APP.token, aes: { key: AES_KEY, appId: APP.appId } })).toEqual({ status: 200, text: 'success' });
      await h.waitFor(id, 'delivered');
    } finally {
      await h.close();
    }
  });
});
