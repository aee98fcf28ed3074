import { startEmulator, type EmulatorHandle } from '../../src/emulator';
import { ACCOUNT, AES_KEY, APPID, CallbackSink, SECRET, TOKEN, classicToken, emulator, get, independentDecrypt, post, sha1Sorted, xmlFields, type Received } from './helpers';

const B = { appId: 'wxbbbbbbbbbbbbbbbb', appSecret: 'secret-b', token: 'tokenb', aesKey: AES_KEY, account: 'gh_bbbbbbbbbbbb' };
const TPL = { template_id: 'TPL_SHARED', content: '{{first.DATA}}\n订单：{{keyword1.DATA}}' };
const data = { keyword1: { value: 'A-1' } };

/** B's pushes: signed with B's Token, safe mode, B's appid in the trailer. */
function openB(r: Received): Record<string, string> {
  const q = r.query;
  expect(q.get('signature')).toBe(sha1Sorted([B.token, q.get('timestamp')!, q.get('nonce')!]));
  return xmlFields(independentDecrypt(AES_KEY, xmlFields(r.body).Encrypt, B.appId));
}

describe('emulator: many own accounts', () => {
  let emu: EmulatorHandle;
  let sinkA: CallbackSink;
  let sinkB: CallbackSink;
  const tokenOf = async (appid: string, secret: string) => (await get(`${emu.url}/cgi-bin/token?grant_type=client_credential&appid=${appid}&secret=${secret}`)).json.access_token as string;
  const send = (token: string, body: Record<string, unknown>) => post(`${emu.url}/cgi-bin/message/template/send?access_token=${token}`, body);
  const msgidOf = (text: string) => /"msgid":(\d+)/.exec(text)![1];

  beforeAll(async () => {
    sinkA = await new CallbackSink().start();
    sinkB = await new CallbackSink().start();
    emu = await emulator({ callbackUrl: sinkA.url, accounts: [{ ...B, callbackUrl: sinkB.url, dailyTemplateQuota: 2, seed: { users: [{ openid: 'oSEEDB' }] } }] });
  });
  afterAll(async () => {
    await emu.close();
    await Promise.all([sinkA.close(), sinkB.close()]);
  });
  beforeEach(async () => {
    await emu.control.whenIdle();
    emu.control.reset();
    sinkA.received.length = 0;
    sinkB.received.length = 0;
  });

  it('keeps the same openid in two accounts apart and routes each call by its access token', async () => {
    const b = emu.control.account(B.appId);
    emu.control.addUser({ openid: 'oSAME' });
    b.addUser({ openid: 'oSAME' });
    emu.control.addTemplate({ ...TPL, title: 'A 的通知' });
    b.addTemplate({ ...TPL, title: 'B 的通知' });
    const [tokenA, tokenB] = [await classicToken(emu), await tokenOf(B.appId, B.appSecret)];

    const sentB = await send(tokenB, { touser: 'oSAME', template_id: TPL.template_id, data });
    expect(sentB.json.errcode).toBe(0);
    expect(b.inbox('oSAME')).toEqual([expect.objectContaining({ channel: 'template', text: 'B 的通知\n订单：A-1' })]);
    expect(emu.control.inbox('oSAME')).toEqual([]);

    emu.control.unsubscribe('oSAME');
    expect((await send(tokenA, { touser: 'oSAME', template_id: TPL.template_id, data })).json.errcode).toBe(43004);
    expect((await send(tokenB, { touser: 'oSAME', template_id: TPL.template_id, data })).json.errcode).toBe(0);
    // A token never reaches another account's users.
    expect((await send(tokenA, { touser: 'oSEEDB', template_id: TPL.template_id, data })).json.errcode).toBe(40003);
    expect(emu.control.accounts().map((a) => [a.appId, a.account, a.kind])).toEqual([
      [APPID, ACCOUNT, 'own'],
      [B.appId, B.account, 'own'],
    ]);
  });

  it('counts msgids per account, so two accounts hand out the same msgid, and sends each receipt to its own account', async () => {
    // A fresh emulator: msgids keep counting across reset().
    const fresh = await emulator({ callbackUrl: sinkA.url, accounts: [{ ...B, callbackUrl: sinkB.url }] });
    try {
      const b = fresh.control.account(B.appId);
      for (const c of [fresh.control, b]) {
        c.addUser({ openid: 'oSAME' });
        c.addTemplate({ ...TPL, title: 'T' });
      }
      const tokenB = (await get(`${fresh.url}/cgi-bin/token?grant_type=client_credential&appid=${B.appId}&secret=${B.appSecret}`)).json.access_token as string;
      const sendTo = (token: string) => post(`${fresh.url}/cgi-bin/message/template/send?access_token=${token}`, { touser: 'oSAME', template_id: TPL.template_id, data });
      const a1 = msgidOf((await sendTo(await classicToken(fresh))).text);
      const b1 = msgidOf((await sendTo(tokenB)).text);
      expect(b1).toBe(a1);

      const [receiptA] = await sinkA.waitFor(1);
      const [receiptB] = await sinkB.waitFor(1);
      expect(receiptA.query.get('signature')).toBe(sha1Sorted([TOKEN, receiptA.query.get('timestamp')!, receiptA.query.get('nonce')!]));
      expect(xmlFields(receiptA.body)).toMatchObject({ ToUserName: ACCOUNT, FromUserName: 'oSAME', MsgID: a1 });
      expect(openB(receiptB)).toMatchObject({ ToUserName: B.account, FromUserName: 'oSAME', Event: 'TEMPLATESENDJOBFINISH', MsgID: b1 });

      // User messages: each account's MsgIds count on their own as well.
      await fresh.control.userSendsText('oSAME', 'hi A');
      await b.userSendsText('oSAME', 'hi B');
      const fromA = xmlFields(sinkA.received[1].body);
      const fromB = openB(sinkB.received[1]);
      expect(fromB).toMatchObject({ ToUserName: B.account, Content: 'hi B' });
      expect(fromB.MsgId).toBe(fromA.MsgId);
    } finally {
      await fresh.close();
    }
  });

  it('keeps faults, quota, token trouble and counters in one account', async () => {
    const b = emu.control.account(B.appId);
    for (const c of [emu.control, b]) {
      c.addUser({ openid: 'oSAME' });
      c.addTemplate({ ...TPL, title: 'T' });
    }
    const [tokenA, tokenB] = [await classicToken(emu), await tokenOf(B.appId, B.appSecret)];
    const sendA = () => send(tokenA, { touser: 'oSAME', template_id: TPL.template_id, data });
    const sendB = () => send(tokenB, { touser: 'oSAME', template_id: TPL.template_id, data });

    b.setFaults({ errcodeRate: 1, errcode: 45011 });
    expect((await sendB()).json.errcode).toBe(45011);
    expect((await sendA()).json.errcode).toBe(0);
    b.setFaults({});

    // B's daily quota is 2; A's is the default.
    expect([(await sendB()).json.errcode, (await sendB()).json.errcode, (await sendB()).json.errcode]).toEqual([0, 0, 45009]);
    expect((await sendA()).json.errcode).toBe(0);

    b.invalidateTokens();
    expect((await sendB()).json.errcode).toBe(40001);
    expect((await sendA()).json.errcode).toBe(0);

    // The invalidated token still names B: its 40001 counts there.
    expect(b.stats()).toMatchObject({ calls: { '/cgi-bin/token': 1, '/cgi-bin/message/template/send': 5 }, templateQuotaUsedToday: 2 });
    expect(emu.control.stats()).toMatchObject({ calls: { '/cgi-bin/token': 1, '/cgi-bin/message/template/send': 3 }, templateQuotaUsedToday: 3 });
    // A token request names its account by appid: B's secret is wrong for A.
    expect((await get(`${emu.url}/cgi-bin/token?grant_type=client_credential&appid=${APPID}&secret=${B.appSecret}`)).json.errcode).toBe(40125);
    expect((await post(`${emu.url}/cgi-bin/stable_token`, { grant_type: 'client_credential', appid: B.appId, secret: SECRET })).json.errcode).toBe(40125);
  });

  it('selects the account of a control route with /_emulator/accounts/:appid/…', async () => {
    const ctl = (path: string, body: unknown = {}, method = 'POST') => post(`${emu.url}/_emulator${path}`, body, method);
    expect((await ctl(`/accounts/${B.appId}/users`, { openid: 'oHTTP' })).json).toMatchObject({ openid: 'oHTTP', subscribed: true });
    expect((await get(`${emu.url}/_emulator/accounts/${B.appId}/users/oHTTP`)).status).toBe(200);
    expect((await get(`${emu.url}/_emulator/users/oHTTP`)).status).toBe(404);
    expect((await get(`${emu.url}/_emulator/accounts/${B.appId}/users/oSEEDB`)).json).toMatchObject({ subscribed: true });

    await ctl(`/accounts/${B.appId}/users/oHTTP/messages`, { text: 'over HTTP' });
    expect(openB((await sinkB.waitFor(1))[0])).toMatchObject({ FromUserName: 'oHTTP', Content: 'over HTTP' });
    expect(sinkA.received).toHaveLength(0);

    const listed = (await get(`${emu.url}/_emulator/accounts`)).json as unknown as { appId: string; pushUrl?: string }[];
    expect(listed).toEqual([expect.objectContaining({ appId: APPID, pushUrl: sinkA.url }), expect.objectContaining({ appId: B.appId, pushUrl: sinkB.url })]);
    expect((await get(`${emu.url}/_emulator/accounts/wxNOBODY/users/oHTTP`)).status).toBe(404);
    expect((await get(`${emu.url}/_emulator/accounts/${B.appId}/stats`)).json).toMatchObject({ calls: { '/_emulator/stats': 1, '/_emulator/users': 1 } });
    expect((await get(`${emu.url}/_emulator/component`)).json).toEqual({ error: 'no component configured' });
  });
});

describe('emulator: account options', () => {
  it('refuses accounts that share an appid or an original id, and merchants without a component', async () => {
    await expect(startEmulator({ appId: B.appId, accounts: [B] })).rejects.toThrow(`two accounts share the appid ${B.appId}`);
    await expect(startEmulator({ account: B.account, accounts: [B] })).rejects.toThrow(`two accounts share the original id ${B.account}`);
    await expect(startEmulator({ merchants: [B] })).rejects.toThrow('merchants need a component');
    await expect(startEmulator({ accounts: [{ ...B, mode: 'safe', aesKey: undefined }] })).rejects.toThrow("mode 'safe' needs an aesKey");
  });
});
