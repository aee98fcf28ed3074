import type { EmulatorHandle } from '../../src/emulator';
import { WechatCipher } from '../../src/wechat/cipher';
import { sealReply } from '../../src/wechat/envelope';
import { ACCOUNT, AES_KEY, APPID, CallbackSink, TOKEN, emulator, get, independentDecrypt, post, xmlFields } from './helpers';

const textReply = (to: string, content: string, from = ACCOUNT) =>
  `<xml><ToUserName><![CDATA[${to}]]></ToUserName><FromUserName><![CDATA[${from}]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${content}]]></Content></xml>`;

describe('emulator: user messages, events and passive replies (plain mode)', () => {
  let emu: EmulatorHandle;
  let sink: CallbackSink;
  beforeAll(async () => {
    sink = await new CallbackSink().start();
    emu = await emulator({ callbackUrl: sink.url });
  });
  afterAll(async () => {
    await emu.close();
    await sink.close();
  });
  beforeEach(() => {
    emu.control.reset();
    sink.received.length = 0;
    sink.respond = () => undefined;
    emu.control.addUser({ openid: 'oU' });
  });

  it('pushes a signed text message with a 64-bit MsgId and captures the text reply in the inbox', async () => {
    sink.respond = (r) => ({ body: textReply(xmlFields(r.body).FromUserName, `you said: ${xmlFields(r.body).Content}`) });
    const result = await emu.control.userSendsText('oU', '查询订单');
    expect(result).toEqual({ reply: 'you said: 查询订单', raw: expect.stringContaining('<xml>') });
    const f = xmlFields(sink.received[0].body);
    expect(f).toMatchObject({ ToUserName: ACCOUNT, FromUserName: 'oU', MsgType: 'text', Content: '查询订单' });
    expect(f.MsgId).toMatch(/^\d{17,20}$/);
    expect(BigInt(f.MsgId) > 2n ** 53n).toBe(true);
    expect(sink.received[0].query.get('openid')).toBe('oU');
    expect(emu.control.inbox('oU')).toEqual([{ at: expect.any(String), channel: 'passive_reply', text: 'you said: 查询订单' }]);
  });

  it('treats "success" and an empty body as no reply', async () => {
    expect(await emu.control.userSendsText('oU', 'a')).toEqual({ reply: null, raw: 'success' });
    sink.respond = () => ({ body: '' });
    expect(await emu.control.userClicksMenu('oU', 'K')).toEqual({ reply: null, raw: '' });
    expect(emu.control.inbox('oU')).toEqual([]);
  });

  it('reports an invalid reply instead of showing it', async () => {
    sink.respond = () => ({ body: textReply('oSOMEONE_ELSE', 'x') });
    expect((await emu.control.userSendsText('oU', 'a')).error).toMatch(/ToUserName/);
    sink.respond = () => ({ body: textReply('oU', 'x', 'gh_other') });
    expect((await emu.control.userSendsText('oU', 'a')).error).toMatch(/FromUserName/);
    sink.respond = () => ({ body: '{"json":"no"}' });
    expect((await emu.control.userSendsText('oU', 'a')).error).toBeDefined();
    expect(emu.control.inbox('oU')).toEqual([]);
  });

  it('pushes events without MsgId: CLICK, SCAN, subscribe with qrscene_, unsubscribe', async () => {
    sink.respond = (r) => ({ body: textReply(xmlFields(r.body).FromUserName, `event ${xmlFields(r.body).Event}`) });
    expect((await emu.control.userClicksMenu('oU', 'MENU_A')).reply).toBe('event CLICK');
    expect((await emu.control.userScans('oU', '42')).reply).toBe('event SCAN');
    expect((await emu.control.userScans('oNEW', '7')).reply).toBe('event subscribe');
    await emu.control.unsubscribe('oU');
    const events = sink.received.map((r) => xmlFields(r.body));
    expect(events.map((e) => [e.Event, e.EventKey])).toEqual([['CLICK', 'MENU_A'], ['SCAN', '42'], ['subscribe', 'qrscene_7'], ['unsubscribe', '']]);
    for (const e of events) expect(e.MsgId).toBeUndefined();
    expect(events[1].Ticket).toBeDefined();
    // The reply to unsubscribe cannot reach an unfollowed user.
    expect(emu.control.inbox('oU').map((e) => e.text)).toEqual(['event CLICK', 'event SCAN']);
    expect(emu.control.user('oNEW').subscribed).toBe(true);
  });

  it('exposes the same operations over HTTP', async () => {
    sink.respond = (r) => (xmlFields(r.body).MsgType === 'text' ? { body: textReply('oU', `re: ${xmlFields(r.body).Content}`) } : undefined);
    const r = await post(`${emu.url}/_emulator/users/oU/messages`, { text: 'hi' });
    expect(r.json).toEqual({ reply: 're: hi', raw: expect.any(String) });
    expect((await post(`${emu.url}/_emulator/users/oU/menu-clicks`, { key: 'K' })).status).toBe(200);
    expect((await post(`${emu.url}/_emulator/users/oU/scans`, { scene: 's' })).status).toBe(200);
    expect((await post(`${emu.url}/_emulator/users/oU/unsubscribe`, {})).status).toBe(200);
    expect((await post(`${emu.url}/_emulator/users/oU/messages`, { text: 'x' })).status).toBe(409);
    expect((await post(`${emu.url}/_emulator/users/oU/subscribe`, {})).status).toBe(200);
    expect((await post(`${emu.url}/_emulator/users/oNOBODY/messages`, { text: 'x' })).status).toBe(404);
    expect((await post(`${emu.url}/_emulator/users/oU/messages`, { text: '' })).status).toBe(400);
    expect((await get(`${emu.url}/_emulator/users/oU/inbox`)).json).toEqual([{ at: expect.any(String), channel: 'passive_reply', text: 're: hi' }]);
  });

  it('reports an unreachable callback', async () => {
    emu.control.setCallbackUrl('http://127.0.0.1:1/wechat');
    const r = await emu.control.userSendsText('oU', 'a');
    expect(r.reply).toBeNull();
    expect(r.error).toMatch(/callback failed/);
    emu.control.setCallbackUrl(sink.url);
  });
});

describe('emulator: passive replies in safe mode', () => {
  let emu: EmulatorHandle;
  let sink: CallbackSink;
  const cipher = new WechatCipher(AES_KEY, APPID);
  beforeAll(async () => {
    sink = await new CallbackSink().start();
    emu = await emulator({ callbackUrl: sink.url, aesKey: AES_KEY });
    emu.control.addUser({ openid: 'oU' });
  });
  afterAll(async () => {
    await emu.close();
    await sink.close();
  });

  it('accepts a correctly sealed reply and shows it', async () => {
    sink.respond = (r) => {
      const inner = xmlFields(independentDecrypt(AES_KEY, xmlFields(r.body).Encrypt, APPID));
      expect(inner.MsgId).toMatch(/^\d+$/);
      return { body: sealReply(cipher, TOKEN, textReply(inner.FromUserName, `sealed ${inner.Content}`), r.query.get('timestamp')!, r.query.get('nonce')!) };
    };
    expect(await emu.control.userSendsText('oU', 'hi')).toMatchObject({ reply: 'sealed hi' });
    expect(emu.control.inbox('oU').at(-1)).toMatchObject({ channel: 'passive_reply', text: 'sealed hi' });
  });

  it('rejects a plaintext reply and a reply with a wrong MsgSignature; accepts plain "success"', async () => {
    sink.respond = () => ({ body: textReply('oU', 'plain') });
    expect((await emu.control.userSendsText('oU', 'a')).error).toMatch(/encrypted reply/);
    sink.respond = (r) => ({ body: sealReply(cipher, 'wrongtoken', textReply('oU', 'forged'), r.query.get('timestamp')!, r.query.get('nonce')!) });
    expect((await emu.control.userSendsText('oU', 'a')).error).toMatch(/msg_signature/);
    sink.respond = () => ({ body: 'success' });
    expect(await emu.control.userSendsText('oU', 'a')).toEqual({ reply: null, raw: 'success' });
    expect(emu.control.inbox('oU').map((e) => e.text)).toEqual(['sealed hi']);
  });
});
