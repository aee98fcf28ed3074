import type { EmulatorHandle } from '../../src/emulator';
import { classicToken, emulator, get, post, staged } from './helpers';

describe('emulator: template/send', () => {
  let emu: EmulatorHandle;
  beforeAll(async () => {
    emu = await emulator({ dailyTemplateQuota: 1000 });
  });
  afterAll(() => emu.close());
  beforeEach(() => emu.control.reset());

  it('answers a 19-digit msgid above 2^53 as a bare JSON number literal', async () => {
    const { openid, template_id, send, data } = await staged(emu);
    const r = await send({ touser: openid, template_id, data });
    const m = /^\{"errcode":0,"errmsg":"ok","msgid":(\d{19})\}$/.exec(r.text);
    expect(m).not.toBeNull();
    const msgid = BigInt(m![1]);
    expect(msgid > 2n ** 53n).toBe(true);
    // Through JSON.parse the number is already rounded: the reason wxreach reads the raw body.
    expect(BigInt(r.json.msgid as number)).not.toBe(msgid);
    const next = await send({ touser: openid, template_id, data });
    expect(BigInt(/"msgid":(\d+)/.exec(next.text)![1])).toBeGreaterThan(msgid);
  });

  it('puts the message in the inbox as shown since 2023: title, no first/remark, values cut to 20 code points', async () => {
    const { openid, template_id, send } = await staged(emu);
    const long = '😀'.repeat(25); // 25 code points, 50 UTF-16 units
    const r = await send({ touser: openid, template_id, client_msg_id: 'c-1', data: { first: { value: 'hi' }, keyword1: { value: long }, keyword2: { value: '已发货' }, remark: { value: 'bye' } } });
    const msgid = /"msgid":(\d+)/.exec(r.text)![1];
    expect(emu.control.inbox(openid)).toEqual([
      { at: expect.any(String), channel: 'template', text: `订单发货通知\n订单号：${'😀'.repeat(20)}\n物流：已发货`, template_id, msgid, client_msg_id: 'c-1' },
    ]);
    const viaHttp = await get(`${emu.url}/_emulator/users/${openid}/inbox`);
    expect(viaHttp.json).toEqual(emu.control.inbox(openid));
  });

  it('returns every errcode in the documented precedence', async () => {
    const { openid, template_id, send, data, token } = await staged(emu);
    const code = async (body: unknown) => ((await send(body as Record<string, unknown>)).json.errcode as number);
    const raw = (text: string) => post(`${emu.url}/cgi-bin/message/template/send?access_token=${token}`, text);

    expect((await raw('{"touser":')).json.errcode).toBe(47001);
    expect((await raw('[1,2]')).json.errcode).toBe(47001);
    expect(await code({ touser: 'oNOBODY', template_id, data })).toBe(40003);
    emu.control.addUser({ openid: 'oGONE', subscribed: false });
    expect(await code({ touser: 'oGONE', template_id: 'TPL_NOPE', data })).toBe(43004);
    expect(await code({ touser: openid, template_id: 'TPL_NOPE', data })).toBe(40037);
    emu.control.refuseTemplate(openid, template_id);
    expect(await code({ touser: openid, template_id, data: {} })).toBe(43101);
    emu.control.refuseTemplate(openid, template_id, false);
    const missing = await send({ touser: openid, template_id, data: { keyword1: { value: 'x' } } });
    expect(missing.json.errcode).toBe(47003);
    expect(missing.json.errmsg).toMatch(/^argument invalid! data\.keyword2\.value is empty rid: /);
    // first and remark may be left out.
    expect(await code({ touser: openid, template_id, data: { keyword1: { value: 'x' }, keyword2: { value: 'y' } } })).toBe(0);
    emu.control.deleteTemplate(template_id);
    expect(await code({ touser: openid, template_id, data })).toBe(40037);
  });

  it('checks the token before anything else, and the daily quota before the recipient', async () => {
    const small = await emulator({ dailyTemplateQuota: 2 });
    try {
      const { openid, template_id, send, data } = await staged(small);
      const url = `${small.url}/cgi-bin/message/template/send`;
      expect((await post(url, '{bad')).json.errcode).toBe(41001);
      expect((await post(`${url}?access_token=nope`, '{bad')).json.errcode).toBe(40001);
      expect((await send({ touser: openid, template_id, data })).json.errcode).toBe(0);
      expect((await send({ touser: 'oNOBODY', template_id, data })).json.errcode).toBe(40003);
      expect((await send({ touser: 'oNOBODY', template_id, data })).json.errcode).toBe(45009);
      expect((await send({ touser: openid, template_id, data })).json.errcode).toBe(45009);
      expect((await send({ touser: openid, template_id, data })).json.errmsg).toMatch(/^reach max api daily quota limit rid: /);
      // The quota resets at midnight China time.
      small.control.advanceClock(24 * 3600);
      const token = (await get(`${small.url}/cgi-bin/token?grant_type=client_credential&appid=wx0123456789abcdef&secret=test-secret`)).json.access_token;
      expect((await post(`${url}?access_token=${token}`, { touser: openid, template_id, data })).json.errcode).toBe(0);
    } finally {
      await small.close();
    }
  });

  it('sends nothing new for the same openid + client_msg_id within 10 minutes', async () => {
    const { openid, template_id, send, data } = await staged(emu);
    const a = await send({ touser: openid, template_id, data, client_msg_id: 'order-1' });
    const b = await send({ touser: openid, template_id, data, client_msg_id: 'order-1' });
    expect(b.text).toBe(a.text);
    expect(emu.control.inbox(openid)).toHaveLength(1);
    const other = await send({ touser: openid, template_id, data, client_msg_id: 'order-2' });
    expect(other.text).not.toBe(a.text);
    emu.control.advanceClock(9 * 60);
    expect((await send({ touser: openid, template_id, data, client_msg_id: 'order-1' })).text).toBe(a.text);
    emu.control.advanceClock(2 * 60);
    const later = await send({ touser: openid, template_id, data, client_msg_id: 'order-1' });
    expect(later.json.errcode).toBe(0);
    expect(later.text).not.toBe(a.text);
    expect(emu.control.inbox(openid)).toHaveLength(3);
  });

  it('answers a wrong method with 43002, an unknown path with 404 JSON, and never crashes on junk', async () => {
    const { token } = await staged(emu);
    expect((await get(`${emu.url}/cgi-bin/message/template/send?access_token=${token}`)).json.errcode).toBe(43002);
    const unknown = await get(`${emu.url}/cgi-bin/nope`);
    expect(unknown.status).toBe(404);
    expect(unknown.json.errcode).toBe(404);
    for (const junk of ['', 'null', '"x"', '{"touser":1,"template_id":{},"data":5}', '\u0000\uffff', '{"data":null}']) {
      const r = await post(`${emu.url}/cgi-bin/message/template/send?access_token=${token}`, junk);
      expect(r.status).toBe(200);
      expect(typeof r.json.errcode).toBe('number');
    }
    const huge = await fetch(`${emu.url}/cgi-bin/message/template/send?access_token=${token}`, { method: 'POST', body: 'x'.repeat(2 * 1024 * 1024) }).catch((e: Error) => e);
    expect(huge).toHaveProperty("status", 413);
    expect((await get(`${emu.url}/cgi-bin/template/get_all_private_template?access_token=${token}`)).status).toBe(200);
  });

  it('openapi/quota/get: the template send quota of the (virtual) China day, and 76021 for a path it does not know', async () => {
    const { openid, template_id, send, data, token } = await staged(emu);
    let current = token;
    const quota = (body: unknown) => post(`${emu.url}/cgi-bin/openapi/quota/get?access_token=${current}`, body);
    await expect(quota({ cgi_path: '/cgi-bin/message/template/send' })).resolves.toMatchObject({ json: { errcode: 0, errmsg: 'ok', quota: { daily_limit: 1000, used: 0, remain: 1000 } } });
    await send({ touser: openid, template_id, data });
    await send({ touser: 'oNOBODY', template_id, data }); // refused after the quota check: counted, as on WeChat
    await expect(quota({ cgi_path: '/cgi-bin/message/template/send' })).resolves.toMatchObject({ json: { quota: { daily_limit: 1000, used: 2, remain: 998 } } });
    emu.control.advanceClock(86_400); // the next China day (the token expired meanwhile)
    current = await classicToken(emu);
    await expect(quota({ cgi_path: '/cgi-bin/message/template/send' })).resolves.toMatchObject({ json: { quota: { used: 0, remain: 1000 } } });
    expect((await quota({ cgi_path: '/cgi-bin/nothing/here' })).json.errcode).toBe(76021);
    expect((await quota({})).json.errcode).toBe(47001);
    expect((await post(`${emu.url}/cgi-bin/openapi/quota/get?access_token=wrong`, { cgi_path: '/cgi-bin/message/template/send' })).json.errcode).toBe(40001);
  });
});
