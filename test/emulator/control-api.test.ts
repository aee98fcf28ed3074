import type { EmulatorHandle } from '../../src/emulator';
import { classicToken, emulator, get, post, staged } from './helpers';

describe('emulator: control API, template admin, faults, stats, reset', () => {
  let emu: EmulatorHandle;
  const ctl = (path: string, body: unknown = {}, method = 'POST') => post(`${emu.url}/_emulator${path}`, body, method);

  beforeAll(async () => {
    emu = await emulator({ seed: { users: [{ openid: 'oSEED' }], templates: [{ template_id: 'TPL_SEED', title: 'Seeded', content: 'v: {{k.DATA}}' }] } });
  });
  afterAll(() => emu.close());
  beforeEach(() => emu.control.reset());

  it('adds users and templates over HTTP and validates bodies with clear errors', async () => {
    expect((await ctl('/users', { openid: 'oA', subscribed: false })).json).toMatchObject({ openid: 'oA', subscribed: false });
    expect((await get(`${emu.url}/_emulator/users/oA`)).json).toMatchObject({ openid: 'oA', subscribed: false });
    const t = await ctl('/templates', { title: 'Paid', content: '金额：{{amount.DATA}}' });
    expect(t.json.template_id).toEqual(expect.any(String));
    expect((await ctl('/templates', { template_id: 'TPL_X', title: 'X', content: '{{a.DATA}}' })).json).toEqual({ template_id: 'TPL_X' });
    const bad = await ctl('/users', { subscribed: 'yes' });
    expect(bad.status).toBe(400);
    expect(bad.json.issues).toEqual(expect.arrayContaining([expect.stringMatching(/^openid: /)]));
    expect((await ctl('/users', '{oops')).status).toBe(400);
    expect((await ctl('/receipt-outcomes', { openid: 'oA', outcome: 'failed:whatever' })).status).toBe(400);
    expect((await ctl('/receipt-outcomes', { openid: 'oA', outcome: { repeat: 2 } })).json).toEqual({ ok: true });
    expect((await ctl('/receipt-outcomes', { openid: 'oNOBODY', outcome: 'none' })).status).toBe(404);
    expect((await ctl('/templates/TPL_X', {}, 'DELETE')).json).toEqual({ ok: true });
    expect((await ctl('/templates/TPL_X', {}, 'DELETE')).status).toBe(404);
    expect((await ctl('/nope')).status).toBe(404);
    expect((await get(`${emu.url}/_emulator/reset`)).status).toBe(405);
    expect((await get(`${emu.url}/_emulator`)).json.routes).toEqual(expect.arrayContaining(['POST /_emulator/users']));
  });

  it('lists, deletes and adds templates through the WeChat template API', async () => {
    const token = await classicToken(emu);
    const api = (p: string) => `${emu.url}/cgi-bin/template/${p}?access_token=${token}`;
    const listed = (await get(api('get_all_private_template'))).json.template_list as Record<string, string>[];
    expect(listed).toEqual([{ template_id: 'TPL_SEED', title: 'Seeded', primary_industry: expect.any(String), deputy_industry: expect.any(String), content: 'v: {{k.DATA}}', example: '' }]);
    const added = await post(api('api_add_template'), { template_id_short: 'TM00015' });
    expect(added.json).toEqual({ errcode: 0, errmsg: 'ok', template_id: expect.any(String) });
    const cat = await post(api('api_add_template'), { template_id_short: '1234', keyword_name_list: ['物品名称', '数量'] });
    const all = (await get(api('get_all_private_template'))).json.template_list as Record<string, string>[];
    expect(all.find((t) => t.template_id === cat.json.template_id)?.content).toBe('{{first.DATA}}\n物品名称：{{keyword1.DATA}}\n数量：{{keyword2.DATA}}\n{{remark.DATA}}');
    expect((await post(api('del_private_template'), { template_id: 'TPL_SEED' })).json).toEqual({ errcode: 0, errmsg: 'ok' });
    expect((await post(api('del_private_template'), { template_id: 'TPL_SEED' })).json.errcode).toBe(40037);
    expect((await post(api('api_add_template'), 'nope')).json.errcode).toBe(47001);
    for (let i = 0; i < 25; i++) emu.control.addTemplate({ title: `t${i}`, content: '{{a.DATA}}' });
    expect((await post(api('api_add_template'), { template_id_short: 'TM1' })).json.errcode).toBe(45026);
  });

  it('injects errcode -1, HTTP 5xx, dropped connections and latency on the chosen paths', async () => {
    const { openid, template_id, send, data } = await staged(emu);
    emu.control.setFaults({ errcodeRate: 1, paths: ['/cgi-bin/message/template/send'] });
    expect((await send({ touser: openid, template_id, data })).json).toEqual({ errcode: -1, errmsg: expect.stringMatching(/^system error rid: /) });
    expect((await classicToken(emu)).length).toBeGreaterThan(20); // other paths unaffected
    await ctl('/faults', { http5xxRate: 1 });
    const five = await send({ touser: openid, template_id, data });
    expect(five.status).toBe(502);
    await ctl('/faults', { dropRate: 1 });
    await expect(send({ touser: openid, template_id, data })).rejects.toThrow();
    await ctl('/faults', { latencyMs: 150 });
    const t0 = Date.now();
    expect((await send({ touser: openid, template_id, data })).json.errcode).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect((await ctl('/faults', { errcodeRate: 2 })).status).toBe(400);
    await ctl('/faults', {});
    expect((await send({ touser: openid, template_id, data })).json.errcode).toBe(0);
  });

  it('counts calls per path, moves the clock and resets everything but the seed', async () => {
    const { openid, template_id, send, data } = await staged(emu);
    await send({ touser: openid, template_id, data });
    await send({ touser: openid, template_id, data });
    const stats = (await get(`${emu.url}/_emulator/stats`)).json as { calls: Record<string, number>; templateQuotaUsedToday: number };
    expect(stats.calls['/cgi-bin/message/template/send']).toBe(2);
    expect(stats.calls['/cgi-bin/token']).toBe(1);
    expect(stats.templateQuotaUsedToday).toBe(2);
    expect(stats.calls['/_emulator/stats']).toBe(1); // control routes count per pattern, not per openid
    const before = Date.parse(emu.control.now());
    const moved = (await ctl('/clock/advance', { seconds: 3600 })).json.now as string;
    expect(Date.parse(moved) - before).toBeGreaterThanOrEqual(3600_000);
    expect((await ctl('/callback-url', { url: 'ftp://x' })).status).toBe(400);
    expect((await ctl('/callback-url', { url: 'http://127.0.0.1:9/wechat' })).json).toEqual({ ok: true });
    expect((await ctl('/reset')).json).toEqual({ ok: true });
    expect(emu.control.stats().calls).toEqual({});
    expect(() => emu.control.inbox(openid)).toThrow('no user');
    expect(emu.control.user('oSEED').subscribed).toBe(true);
    expect(Math.abs(Date.parse(emu.control.now()) - Date.now())).toBeLessThan(1000);
    expect((await send({ touser: 'oSEED', template_id: 'TPL_SEED', data: { k: { value: '1' } } })).json.errcode).toBe(40001);
  });
});
