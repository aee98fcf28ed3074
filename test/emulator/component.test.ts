import type { EmulatorHandle } from '../../src/emulator';
import { CallbackSink, COMPONENT, emulator, get, openComponentPush, post } from './helpers';

const M1 = { appId: 'wx1111111111111111', appSecret: 'm1-secret', token: 'm1token', account: 'gh_111111111111' };
const M2 = { appId: 'wx2222222222222222', appSecret: 'm2-secret', token: 'm2token', account: 'gh_222222222222' };
const TPL = { template_id: 'TPL_M', title: '到店提醒', content: '{{first.DATA}}\n门店：{{keyword1.DATA}}' };

describe('emulator: the third-party platform (component)', () => {
  let emu: EmulatorHandle;
  let sink: CallbackSink;
  const api = (name: string, body: Record<string, unknown>, token?: string) =>
    post(`${emu.url}/cgi-bin/component/${name}${token === undefined ? '' : `?component_access_token=${token}`}`, { component_appid: COMPONENT.appId, ...body });
  const authEvents = () => sink.received.filter((r) => r.path === '/wechat/component');
  const lastAuthEvent = () => openComponentPush(authEvents().at(-1)!, 'AppId');
  const componentToken = async () => {
    const ticket = emu.control.component.ticket();
    const r = await api('api_component_token', { component_appsecret: COMPONENT.appSecret, component_verify_ticket: ticket });
    return r.json.component_access_token as string;
  };
  /** A merchant authorises (control API) and the code is exchanged: its authorizer tokens. */
  const authorised = async (appId: string, token: string, o: { permissionSets?: number[] } = {}) => {
    const { authCode } = await emu.control.component.authorize(appId, o);
    return (await api('api_query_auth', { authorization_code: authCode }, token)).json.authorization_info as Record<string, string>;
  };

  beforeAll(async () => {
    sink = await new CallbackSink().start();
    emu = await emulator({
      component: { ...COMPONENT, authEventUrl: `${sink.url}/component`, messageUrl: `${sink.url}/$APPID$` },
      merchants: [M1, M2],
    });
  });
  afterAll(async () => {
    await emu.close();
    await sink.close();
  });
  beforeEach(async () => {
    await emu.control.whenIdle();
    sink.received.length = 0;
    emu.control.reset();
    // reset() pushes a first ticket at once.
    await sink.waitFor(1);
  });

  it('pushes a ticket at once and every 10 virtual minutes, sealed with the component key; api_component_token takes the latest or the previous', async () => {
    const first = lastAuthEvent();
    expect(first).toEqual({ AppId: COMPONENT.appId, CreateTime: expect.stringMatching(/^\d+$/), InfoType: 'component_verify_ticket', ComponentVerifyTicket: expect.stringMatching(/^ticket@@@/) });
    expect(authEvents()[0].query.has('openid')).toBe(false);
    expect(emu.control.component.ticket()).toBe(first.ComponentVerifyTicket);

    emu.control.advanceClock(599);
    await emu.control.whenIdle();
    expect(authEvents()).toHaveLength(1);
    emu.control.advanceClock(1);
    await sink.waitFor(2);
    const second = lastAuthEvent().ComponentVerifyTicket;
    expect(second).not.toBe(first.ComponentVerifyTicket);

    const withTicket = (ticket: string, secret = COMPONENT.appSecret) => api('api_component_token', { component_appsecret: secret, component_verify_ticket: ticket });
    expect((await withTicket(first.ComponentVerifyTicket)).json).toEqual({ component_access_token: expect.any(String), expires_in: 7200 });
    expect((await withTicket(second)).json.component_access_token).toEqual(expect.any(String));
    emu.control.advanceClock(600);
    await sink.waitFor(3);
    expect((await withTicket(first.ComponentVerifyTicket)).json.errcode).toBe(61005);
    expect((await withTicket('ticket@@@made-up')).json.errcode).toBe(61006);
    expect((await withTicket(second, 'wrong')).json.errcode).toBe(40125);
    expect((await api('api_component_token', { component_verify_ticket: second })).json.errcode).toBe(41004);
    expect((await post(`${emu.url}/cgi-bin/component/api_component_token`, { component_appid: 'wxOTHER', component_appsecret: COMPONENT.appSecret, component_verify_ticket: second })).json.errcode).toBe(61011);
    expect(emu.control.component.authEvents().map((e) => [e.fields.InfoType, e.delivered, e.answer])).toEqual(Array(3).fill(['component_verify_ticket', true, 'success']));
  });

  it('can make ticket pushes fail; api_start_push_ticket has one pushed soon after', async () => {
    const kept = emu.control.component.ticket();
    emu.control.component.setTicketPushesFail(true);
    emu.control.advanceClock(600);
    await emu.control.whenIdle();
    expect(authEvents()).toHaveLength(1);
    expect(emu.control.component.authEvents().at(-1)).toMatchObject({ delivered: false, error: 'ticket push failure injected' });
    expect(emu.control.component.ticket()).toBe(kept);

    emu.control.component.setTicketPushesFail(false);
    expect((await api('api_start_push_ticket', { component_appsecret: COMPONENT.appSecret })).json.errcode).toBe(41004);
    expect((await api('api_start_push_ticket', { component_secret: 'wrong' })).json.errcode).toBe(40125);
    expect((await api('api_start_push_ticket', { component_secret: COMPONENT.appSecret })).json).toEqual({ errcode: 0, errmsg: 'ok' });
    await sink.waitFor(2);
    expect(lastAuthEvent().ComponentVerifyTicket).toBe(emu.control.component.ticket());
    expect(emu.control.component.ticket()).not.toBe(kept);
  });

  it('authorises through the login page: pre-auth code, consent, 302 with auth_code, the authorized push, api_query_auth once', async () => {
    const token = await componentToken();
    expect((await api('api_create_preauthcode', {})).json.errcode).toBe(41001);
    expect((await api('api_create_preauthcode', {}, 'nope')).json.errcode).toBe(40001);
    const pre = (await api('api_create_preauthcode', {}, token)).json;
    expect(pre).toEqual({ pre_auth_code: expect.stringMatching(/^preauthcode@@@/), expires_in: 600 });

    const link = (extra: Record<string, string> = {}) =>
      `${emu.url}/cgi-bin/componentloginpage?${new URLSearchParams({ component_appid: COMPONENT.appId, pre_auth_code: pre.pre_auth_code as string, redirect_uri: 'https://shop.example/wx/callback?next=/home', auth_type: '1', ...extra })}`;
    const page = await fetch(link());
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(`biz_appid=${M1.appId}`);
    expect((await fetch(link({ pre_auth_code: 'preauthcode@@@unknown' }))).status).toBe(400);
    expect((await fetch(link({ biz_appid: 'wxNOTAMERCHANT' }))).status).toBe(400);

    const consent = await fetch(link({ biz_appid: M1.appId }), { redirect: 'manual' });
    expect(consent.status).toBe(302);
    const back = new URL(consent.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).toBe('https://shop.example/wx/callback');
    expect(back.searchParams.get('next')).toBe('/home');
    expect(back.searchParams.get('expires_in')).toBe('600');
    const authCode = back.searchParams.get('auth_code')!;
    expect(authCode).toMatch(/^queryauthcode@@@/);

    await sink.waitFor(2);
    const pushed = lastAuthEvent();
    expect(pushed).toMatchObject({ AppId: COMPONENT.appId, InfoType: 'authorized', AuthorizerAppid: M1.appId, AuthorizationCode: authCode, PreAuthCode: pre.pre_auth_code });
    expect(Number(pushed.AuthorizationCodeExpiredTime) - Number(pushed.CreateTime)).toBe(600);

    const info = (await api('api_query_auth', { authorization_code: authCode }, token)).json;
    expect(info).toEqual({
      authorization_info: {
        authorizer_appid: M1.appId,
        authorizer_access_token: expect.any(String),
        expires_in: 7200,
        authorizer_refresh_token: expect.stringMatching(/^refreshtoken@@@/),
        func_info: expect.arrayContaining([{ funcscope_category: { id: 1 } }, { funcscope_category: { id: 7 } }]),
      },
    });
    expect((await api('api_query_auth', { authorization_code: authCode }, token)).json.errcode).toBe(61009);
    expect((await api('api_query_auth', { authorization_code: 'queryauthcode@@@never' }, token)).json.errcode).toBe(61009);
  });

  it('expires authorisation codes after 10 minutes (61010) and sends updateauthorized to an authorised merchant', async () => {
    const first = await emu.control.component.authorize(M2.appId, { redirectUri: 'https://shop.example/cb' });
    expect(first).toMatchObject({ infoType: 'authorized', expiresIn: 600, push: { ok: true, body: 'success' } });
    expect(first.redirectUrl).toBe(`https://shop.example/cb?auth_code=${encodeURIComponent(first.authCode)}&expires_in=600`);
    emu.control.advanceClock(601);
    expect((await api('api_query_auth', { authorization_code: first.authCode }, await componentToken())).json.errcode).toBe(61010);
    const again = await emu.control.component.authorize(M2.appId, { permissionSets: [1] });
    expect(again.infoType).toBe('updateauthorized');
    expect(lastAuthEvent()).toMatchObject({ InfoType: 'updateauthorized', AuthorizerAppid: M2.appId, AuthorizationCode: again.authCode });
    expect(emu.control.component.status().authorizers).toEqual([expect.objectContaining({ appId: M2.appId, authorized: true, permissionSets: [1] })]);
  });

  it("pushes an authorised merchant's users to the $APPID$ URL in component crypto; its authorizer token acts on that merchant", async () => {
    const token = await componentToken();
    const m1 = (await authorised(M1.appId, token)).authorizer_access_token;
    const m2 = (await authorised(M2.appId, token, { permissionSets: [1] })).authorizer_access_token;
    const merchant1 = emu.control.account(M1.appId);
    merchant1.addUser({ openid: 'oSAME' });
    merchant1.addTemplate(TPL);
    emu.control.addUser({ openid: 'oSAME' });

    sink.received.length = 0;
    await merchant1.userSendsText('oSAME', '你好');
    const [push] = sink.received;
    expect(push.path).toBe(`/wechat/${M1.appId}`);
    expect(push.query.get('openid')).toBe('oSAME');
    expect(openComponentPush(push, 'ToUserName')).toMatchObject({ ToUserName: M1.account, FromUserName: 'oSAME', MsgType: 'text', Content: '你好' });

    const custom = (t: string) => post(`${emu.url}/cgi-bin/message/custom/send?access_token=${t}`, { touser: 'oSAME', msgtype: 'text', text: { content: 'from the platform' } });
    expect((await custom(m1)).json.errcode).toBe(0);
    expect(merchant1.inbox('oSAME').map((e) => e.text)).toEqual(['from the platform']);
    expect(emu.control.inbox('oSAME')).toEqual([]);

    const sent = await post(`${emu.url}/cgi-bin/message/template/send?access_token=${m1}`, { touser: 'oSAME', template_id: TPL.template_id, data: { keyword1: { value: '一号店' } } });
    const msgid = /"msgid":(\d+)/.exec(sent.text)![1];
    const receipt = (await sink.waitFor(2))[1];
    expect(receipt.path).toBe(`/wechat/${M1.appId}`);
    expect(openComponentPush(receipt, 'ToUserName')).toMatchObject({ ToUserName: M1.account, Event: 'TEMPLATESENDJOBFINISH', MsgID: msgid });

    // M2 granted messages (1) only: template sends (7) are refused, and a token never reaches another merchant's users.
    emu.control.account(M2.appId).addTemplate(TPL);
    expect((await post(`${emu.url}/cgi-bin/message/template/send?access_token=${m2}`, { touser: 'oSAME', template_id: TPL.template_id, data: {} })).json.errcode).toBe(61007);
    expect((await custom(m2)).json.errcode).toBe(40003);
  });

  it('unauthorize: the unauthorized push, dead tokens (40001, 61003), gone from the authorizer list', async () => {
    const token = await componentToken();
    const m1 = await authorised(M1.appId, token);
    const m2 = await authorised(M2.appId, token);
    const list = async (offset: number, count: unknown) => (await api('api_get_authorizer_list', { offset, count }, token)).json;
    expect(await list(0, 1)).toEqual({ total_count: 2, list: [{ authorizer_appid: M1.appId, refresh_token: m1.authorizer_refresh_token, auth_time: expect.any(Number) }] });
    expect(((await list(1, 1)).list as { authorizer_appid: string }[])[0].authorizer_appid).toBe(M2.appId);
    expect((await list(0, 501)).errcode).toBe(40170);
    expect((await list(0, undefined)).errcode).toBe(47001);

    const unauthorized = await post(`${emu.url}/_emulator/component/merchants/${M1.appId}/unauthorize`, {});
    expect(unauthorized.json).toMatchObject({ ok: true, body: 'success' });
    expect(lastAuthEvent()).toMatchObject({ InfoType: 'unauthorized', AuthorizerAppid: M1.appId });
    emu.control.account(M1.appId).addTemplate(TPL);
    emu.control.account(M1.appId).addUser({ openid: 'oX' });
    expect((await post(`${emu.url}/cgi-bin/message/template/send?access_token=${m1.authorizer_access_token}`, { touser: 'oX', template_id: TPL.template_id, data: {} })).json.errcode).toBe(40001);
    const refresh = (appid: string, refreshToken: string) => api('api_authorizer_token', { authorizer_appid: appid, authorizer_refresh_token: refreshToken }, token);
    expect((await refresh(M1.appId, m1.authorizer_refresh_token)).json.errcode).toBe(61003);
    expect((await list(0, 500)).list).toEqual([expect.objectContaining({ authorizer_appid: M2.appId })]);
    expect((await api('api_get_authorizer_info', { authorizer_appid: M1.appId }, token)).json.errcode).toBe(61003);
    expect((await api('api_get_authorizer_info', { authorizer_appid: M2.appId }, token)).json).toMatchObject({
      authorizer_info: { user_name: M2.account, service_type_info: { id: 2 } },
      authorization_info: { authorizer_appid: M2.appId, authorizer_refresh_token: m2.authorizer_refresh_token },
    });
    // Without an authorisation (and without its own URL) the merchant's users push nowhere.
    expect((await emu.control.account(M1.appId).userSendsText('oX', 'hello?')).error).toBe('no callback URL configured');
    expect((await post(`${emu.url}/_emulator/component/merchants/${M1.appId}/unauthorize`, {})).status).toBe(409);

    const back = await authorised(M1.appId, token);
    expect(lastAuthEvent().InfoType).toBe('authorized');
    expect(back.authorizer_refresh_token).not.toBe(m1.authorizer_refresh_token);
  });

  it('steers the component over HTTP: URLs, tickets, authorisation, events, validation', async () => {
    const ctl = (path: string, body: unknown = {}) => post(`${emu.url}/_emulator/component${path}`, body);
    expect((await get(`${emu.url}/_emulator/component/ticket`)).json.ticket).toBe(emu.control.component.ticket());
    expect((await ctl('/message-url', { url: 'ftp://x' })).status).toBe(400);
    expect((await ctl('/message-url', { url: `${sink.url}/m/$APPID$/in` })).json).toEqual({ ok: true });
    const authorized = (await ctl(`/merchants/${M1.appId}/authorize`, { permissionSets: [1, 7] })).json;
    expect(authorized).toMatchObject({ infoType: 'authorized', authCode: expect.stringMatching(/^queryauthcode@@@/), push: { ok: true } });
    expect((await ctl(`/merchants/${M1.appId}/authorize`, { preAuthCode: 'preauthcode@@@unknown' })).status).toBe(400);
    expect((await ctl('/merchants/wxNOBODY/authorize')).status).toBe(404);
    expect((await get(`${emu.url}/_emulator/component`)).json).toMatchObject({
      appId: COMPONENT.appId,
      messageUrl: `${sink.url}/m/$APPID$/in`,
      authorizers: [{ appId: M1.appId, account: M1.account, authorized: true, refreshToken: '', permissionSets: [1, 7] }],
    });
    emu.control.account(M1.appId).addUser({ openid: 'oH' });
    await emu.control.account(M1.appId).userSendsText('oH', 'hi');
    expect(sink.received.at(-1)!.path).toBe(`/wechat/m/${M1.appId}/in`);

    expect((await ctl('/ticket-failures', { fail: true })).json).toEqual({ ok: true });
    expect((await ctl('/ticket')).json).toMatchObject({ ok: false, error: 'ticket push failure injected' });
    const events = (await get(`${emu.url}/_emulator/component/auth-events`)).json as unknown as { fields: Record<string, string> }[];
    expect(events.map((e) => e.fields.InfoType)).toEqual(['component_verify_ticket', 'authorized', 'component_verify_ticket']);
    expect((await ctl('/auth-event-url', { url: null })).json).toEqual({ ok: true });
    expect((await ctl('/ticket-failures', { fail: false })).json).toEqual({ ok: true });
    expect((await ctl('/ticket')).json).toMatchObject({ ok: false, error: 'no authorisation-event URL configured' });
    const pushes = sink.received.length;
    expect((await ctl('/auth-event-url', { url: `${sink.url}/component` })).json).toEqual({ ok: true });
    await sink.waitFor(pushes + 1);
    expect(lastAuthEvent().InfoType).toBe('component_verify_ticket');

    expect((await ctl('/release-test', { appId: M1.appId })).status).toBe(400);
    expect((await get(`${emu.url}/_emulator/component/stats`)).json).toMatchObject({ calls: { '/_emulator/component/ticket': 3 } });
    // The component's API faults stay on its paths.
    await ctl('/faults', { errcodeRate: 1, errcode: 61004 });
    expect((await api('api_component_token', {})).json.errcode).toBe(61004);
    expect((await get(`${emu.url}/cgi-bin/token?grant_type=client_credential&appid=${M1.appId}&secret=${M1.appSecret}`)).json.access_token).toEqual(expect.any(String));
  });
});

describe('emulator: authorizer refresh tokens', () => {
  let emu: EmulatorHandle;
  let sink: CallbackSink;
  const api = (name: string, body: Record<string, unknown>, token: string) =>
    post(`${emu.url}/cgi-bin/component/${name}?access_token=${token}`, { component_appid: COMPONENT.appId, ...body });
  const templates = (token: string) => get(`${emu.url}/cgi-bin/template/get_all_private_template?access_token=${token}`);

  beforeAll(async () => {
    sink = await new CallbackSink().start();
    emu = await emulator({ component: { ...COMPONENT, authEventUrl: `${sink.url}/component` }, merchants: [M1] });
    await sink.waitFor(1);
  });
  afterAll(async () => {
    await emu.close();
    await sink.close();
  });

  it('rotates the refresh token on every exchange; an older one works 5 more virtual minutes, then 61023', async () => {
    const ticket = emu.control.component.ticket();
    const token = (await post(`${emu.url}/cgi-bin/component/api_component_token`, { component_appid: COMPONENT.appId, component_appsecret: COMPONENT.appSecret, component_verify_ticket: ticket })).json.component_access_token as string;
    const { authCode } = await emu.control.component.authorize(M1.appId);
    const first = (await api('api_query_auth', { authorization_code: authCode }, token)).json.authorization_info as Record<string, string>;
    const refresh = async (r: string) => (await api('api_authorizer_token', { authorizer_appid: M1.appId, authorizer_refresh_token: r }, token)).json;

    const second = await refresh(first.authorizer_refresh_token);
    expect(second).toEqual({ authorizer_access_token: expect.any(String), expires_in: 7200, authorizer_refresh_token: expect.stringMatching(/^refreshtoken@@@/) });
    expect(second.authorizer_refresh_token).not.toBe(first.authorizer_refresh_token);
    expect(emu.control.component.status().authorizers[0].refreshToken).toBe(second.authorizer_refresh_token);

    emu.control.advanceClock(240);
    // Still inside its 5 minutes, the first refresh token works (and rotates again).
    const third = await refresh(first.authorizer_refresh_token);
    expect(third.authorizer_refresh_token).toEqual(expect.stringMatching(/^refreshtoken@@@/));
    emu.control.advanceClock(61);
    expect((await refresh(first.authorizer_refresh_token)).errcode).toBe(61023);
    // The second was replaced 61 s ago: it has 4 minutes left.
    expect((await refresh(second.authorizer_refresh_token as string)).authorizer_access_token).toEqual(expect.any(String));
    emu.control.advanceClock(240);
    expect((await refresh(second.authorizer_refresh_token as string)).errcode).toBe(61023);
    // The third was replaced (by the refresh with the second) 240 s ago.
    emu.control.advanceClock(61);
    expect((await refresh(third.authorizer_refresh_token as string)).errcode).toBe(61023);
    expect((await refresh('refreshtoken@@@never')).errcode).toBe(61023);

    // Access tokens: the newest works; one replaced more than 5 minutes ago has expired (42001).
    const latestRefresh = emu.control.component.status().authorizers[0].refreshToken;
    const latest = await refresh(latestRefresh);
    expect((await templates(latest.authorizer_access_token as string)).json).toEqual({ template_list: [] });
    expect((await templates(first.authorizer_access_token)).json.errcode).toBe(42001);
    // A new component token leaves the previous one 5 more minutes.
    const newer = (await post(`${emu.url}/cgi-bin/component/api_component_token`, { component_appid: COMPONENT.appId, component_appsecret: COMPONENT.appSecret, component_verify_ticket: emu.control.component.ticket() })).json.component_access_token as string;
    emu.control.advanceClock(301);
    expect((await api('api_get_authorizer_list', { offset: 0, count: 10 }, token)).json.errcode).toBe(42001);
    expect((await api('api_get_authorizer_list', { offset: 0, count: 10 }, newer)).json).toMatchObject({ total_count: 1 });
  });
});
