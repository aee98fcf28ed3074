import { run } from '../../src/cli/wxreach';
import { WechatApiClient } from '../../src/wechat/api-client';
import { WechatApiError } from '../../src/wechat/api-errors';
import { eventually } from '../helpers/eventually';
import { COMPONENT, MERCHANTS, startPlatformRig, type PlatformRig } from '../helpers/component-rig';

const [A, B, C] = MERCHANTS;
const QUERY_AUTH = '/cgi-bin/component/api_query_auth';
const AUTHORIZER_TOKEN = '/cgi-bin/component/api_authorizer_token';
const AUTHORIZER_LIST = '/cgi-bin/component/api_get_authorizer_list';
const START_PUSH_TICKET = '/cgi-bin/component/api_start_push_ticket';

const calls = (rig: PlatformRig, path: string) => rig.emulator.control.component.stats().calls[path] ?? 0;
const wechatRefreshToken = (rig: PlatformRig, appid: string) =>
  rig.emulator.control.component.status().authorizers.find((a) => a.appId === appid)?.refreshToken;
const storedRefreshToken = async (rig: PlatformRig, appid: string) =>
  (JSON.parse((await rig.kv.getHash('component:authorizers'))[appid] ?? '{}') as { refreshToken?: string }).refreshToken;

/** The merchant opens wxreach's link and consents on WeChat's page; returns where its browser ends up. */
async function consent(rig: PlatformRig, appid: string, next = 'https://saas.example/onboarded?shop=42'): Promise<URL> {
  const res = await fetch(`${rig.url}/v1/component/authorize-url?next=${encodeURIComponent(next)}`);
  expect(res.status).toBe(200);
  const { url } = (await res.json()) as { url: string };
  const page = await fetch(`${url}&biz_appid=${appid}`, { redirect: 'manual' });
  expect(page.status).toBe(302);
  const callback = await fetch(page.headers.get('location') as string, { redirect: 'manual' });
  expect(callback.status).toBe(302);
  return new URL(callback.headers.get('location') as string);
}

async function withRig(test: (rig: PlatformRig) => Promise<void>, o: Parameters<typeof startPlatformRig>[0] = {}) {
  const rig = await startPlatformRig(o);
  try {
    await eventually(async () => (await rig.platform.health()).ticketCreateTime !== null);
    await test(rig);
  } finally {
    await rig.close();
  }
}

describe('third-party platform against the emulator', () => {
  it('a merchant authorises through the link: the callback completes it and the browser goes on; the push of the same code changes nothing more', () =>
    withRig(async (rig) => {
      const landed = await consent(rig, A.appId);
      expect(landed.origin + landed.pathname).toBe('https://saas.example/onboarded');
      expect(landed.searchParams.get('shop')).toBe('42');
      expect(landed.searchParams.get('authorizer_appid')).toBe(A.appId);
      // The emulator pushed `authorized` with the same code: it is handled, not exchanged again.
      await eventually(() => rig.emulator.control.component.authEvents().some((e) => e.fields.InfoType === 'authorized' && e.delivered));
      await rig.platform.settled();
      expect(calls(rig, QUERY_AUTH)).toBe(1);
      expect(rig.events).toEqual([`authorized ${A.appId}`]);
      expect(await rig.platform.isAuthorized(A.appId)).toBe(true);
      expect(await rig.platform.authorizers()).toEqual([
        expect.objectContaining({ appid: A.appId, state: 'authorized', userName: A.account, funcs: [1, 2, 3, 7, 11, 15, 89], needsAuthorisation: false }),
      ]);
      expect(await storedRefreshToken(rig, A.appId)).toBe(wechatRefreshToken(rig, A.appId));
      expect(await rig.platform.authorizer(A.appId)).toMatchObject({ appid: A.appId, userName: A.account });
      expect(await rig.platform.authorizer(B.appId)).toBeNull();

      // The token that came with the code reaches the merchant's user, and its pushes reach /wechat/<appid>.
      const merchant = rig.emulator.control.account(A.appId);
      merchant.addUser({ openid: 'oUserOfA', subscribed: true });
      const push = await merchant.userSendsText('oUserOfA', 'hello');
      expect(push.error).toBeUndefined();
      await new WechatApiClient(rig.http, rig.platform.tokensFor(A.appId)).sendText('oUserOfA', 'your order is ready');
      expect(merchant.inbox('oUserOfA').map((e) => e.text)).toEqual(['your order is ready']);
      expect(calls(rig, AUTHORIZER_TOKEN)).toBe(0);
    }));

  it('a merchant that revokes is switched off: unauthorised, its tokens refused, its refresh token dropped', () =>
    withRig(async (rig) => {
      await consent(rig, A.appId);
      await rig.platform.tokensFor(A.appId).get();
      const push = await rig.emulator.control.component.unauthorize(A.appId);
      expect(push.ok && push.body).toBe('success');
      await eventually(() => rig.events.includes(`unauthorized ${A.appId}`));
      expect(await rig.platform.isAuthorized(A.appId)).toBe(false);
      expect(await storedRefreshToken(rig, A.appId)).toBe('');
      await expect(rig.platform.tokensFor(A.appId).get()).rejects.toMatchObject({ errcode: 61003 });
      expect(rig.platform.tokensFor(A.appId).lastError?.fix).toMatch(/authorise again/);
      expect(await rig.platform.authorizers()).toEqual([expect.objectContaining({ appid: A.appId, state: 'revoked' })]);
    }));

  it('the authoriser token is refreshed ahead of expiry, once for five instances, and the rotated refresh token is stored', () =>
    withRig(async (rig) => {
      await consent(rig, A.appId);
      const first = await rig.platform.tokensFor(A.appId).get();
      const issued = wechatRefreshToken(rig, A.appId);
      // Both clocks to 8 minutes before the 2 hours are up: inside the 10-minute refresh margin.
      rig.emulator.control.advanceClock(7200 - 480);
      rig.advance(7200 - 480);
      const instances = [rig.platform, ...Array.from({ length: 4 }, () => rig.instance())];
      // While one instance refreshes, the others keep using the token that still has minutes to live.
      await Promise.all(instances.flatMap((p) => [p.tokensFor(A.appId).get(), p.tokensFor(A.appId).get()]));
      const tokens = await Promise.all(instances.map((p) => p.tokensFor(A.appId).get()));
      expect(new Set(tokens).size).toBe(1);
      expect(tokens[0]).not.toBe(first);
      expect(calls(rig, AUTHORIZER_TOKEN)).toBe(1);
      const rotated = wechatRefreshToken(rig, A.appId);
      expect(rotated).not.toBe(issued);
      const record = JSON.parse((await rig.kv.getHash('component:authorizers'))[A.appId]) as Record<string, unknown>;
      expect(record).toMatchObject({ refreshToken: rotated, previousRefreshToken: issued });
      const merchant = rig.emulator.control.account(A.appId);
      merchant.addUser({ openid: 'oUserOfA', subscribed: true });
      await merchant.userSendsText('oUserOfA', 'hi');
      await new WechatApiClient(rig.http, rig.instance().tokensFor(A.appId)).sendText('oUserOfA', 'sent with the rotated token');
      expect(merchant.inbox('oUserOfA').map((e) => e.text)).toEqual(['sent with the rotated token']);
    }));

  it('a refresh token WeChat no longer knows (61023) is restored from the authoriser list and the token still comes', () =>
    withRig(async (rig) => {
      await consent(rig, A.appId);
      const stale = JSON.parse((await rig.kv.getHash('component:authorizers'))[A.appId]) as Record<string, unknown>;
      await rig.kv.setHash('component:authorizers', { [A.appId]: JSON.stringify({ ...stale, refreshToken: 'refreshtoken@@@from-an-old-backup', previousRefreshToken: '' }) });
      const tokenKey = `component:authorizer_token:${A.appId}`;
      await rig.kv.deleteValueIf(tokenKey, (await rig.kv.getValue(tokenKey)) as string);
      const fresh = rig.instance(); // no access token cached anywhere: it must use the refresh token
      await expect(fresh.tokensFor(A.appId).get()).resolves.toEqual(expect.any(String));
      expect(calls(rig, AUTHORIZER_LIST)).toBe(1);
      expect(await storedRefreshToken(rig, A.appId)).toBe(wechatRefreshToken(rig, A.appId));
      expect(rig.logs()).toContain('authoriser refresh token restored from WeChat');
    }));

  it('after Redis lost everything, `wxreach accounts recover` asks for a ticket and restores every current merchant, not a revoked one', () =>
    withRig(async (rig) => {
      for (const m of [A, B, C]) await consent(rig, m.appId);
      await rig.emulator.control.component.unauthorize(C.appId);
      await eventually(() => rig.events.includes(`unauthorized ${C.appId}`));
      await rig.platform.settled();
      await rig.kv.wipe(); // ticket, tokens and directory gone
      await rig.restart();
      const out: string[] = [];
      const err: string[] = [];
      const code = await run(['accounts', 'recover', '--url', rig.url], { out: (l) => out.push(l), err: (l) => err.push(l), env: {} });
      expect(err).toEqual([]);
      expect(code).toBe(0);
      expect(calls(rig, START_PUSH_TICKET)).toBe(1);
      expect(out.join('\n')).toContain(`restored:            2 (${A.appId}, ${B.appId})`);
      expect(out.join('\n')).toContain('needs authorisation: 0');
      const views = await rig.platform.authorizers();
      expect(views.map((v) => v.appid).sort()).toEqual([A.appId, B.appId]);
      expect(await rig.platform.isAuthorized(C.appId)).toBe(false);
      for (const m of [A, B]) expect(await storedRefreshToken(rig, m.appId)).toBe(wechatRefreshToken(rig, m.appId));
      await expect(rig.platform.tokensFor(B.appId).get()).resolves.toEqual(expect.any(String));
      for (const secret of [COMPONENT.appSecret, wechatRefreshToken(rig, A.appId) as string, await rig.platform.tokensFor(A.appId).get()]) {
        expect(rig.logs()).not.toContain(secret);
      }
      // A second run finds nothing to do.
      const again = await rig.platform.recover();
      expect(again).toEqual({ restored: [], unchanged: 2, needsAuthorisation: [], revoked: [] });
    }));

  it('with no ticket and none arriving, recovery gives up within its bound with a clear error', () =>
    withRig(
      async (rig) => {
        rig.emulator.control.component.setTicketPushesFail(true);
        await rig.kv.wipe();
        const started = Date.now();
        const res = await fetch(`${rig.url}/v1/component/recover`, { method: 'POST' });
        expect(Date.now() - started).toBeLessThan(5000);
        expect(res.status).toBe(503);
        const body = (await res.json()) as { error: { code: string; message: string } };
        expect(body.error.code).toBe('no_verify_ticket');
        expect(body.error.message).toMatch(/\/wechat\/component/);
        expect(calls(rig, START_PUSH_TICKET)).toBe(1);
      },
      { ticketWaitMs: 1000 },
    ));

  it("passes the emulator's full-network release test, and only the test account's messages are answered by it", () =>
    withRig(async (rig) => {
      const report = await rig.emulator.control.component.releaseTest({ appId: 'wx9252c5e0bb1836fc' });
      expect(report.checks.filter((c) => !c.pass)).toEqual([]);
      expect(report.pass).toBe(true);
      await consent(rig, A.appId);
      const merchant = rig.emulator.control.account(A.appId);
      merchant.addUser({ openid: 'oUserOfA', subscribed: true });
      const reply = await merchant.userSendsText('oUserOfA', 'TESTCOMPONENT_MSG_TYPE_TEXT');
      expect(reply.error).toBeUndefined();
      expect(reply.reply).toBeNull();
    }));

  it('an authorisation whose exchange WeChat refuses is not stored, and the refusal is logged', () =>
    withRig(async (rig) => {
      rig.emulator.control.component.setFaults({ paths: [QUERY_AUTH], errcodeRate: 1, errcode: 61010 });
      await rig.emulator.control.component.authorize(A.appId);
      await eventually(() => rig.logs().includes('authorisation event authorized failed'));
      expect(await rig.platform.isAuthorized(A.appId)).toBe(false);
      expect(rig.events).toEqual([]);
      expect(rig.logs()).toContain('the authorisation code cannot be used (expired)');
    }));

  it('WeChat answering 61003 for a refresh marks the merchant revoked and reports it', () =>
    withRig(async (rig) => {
      await consent(rig, A.appId);
      rig.emulator.control.advanceClock(7200);
      rig.advance(7200);
      rig.emulator.control.component.setFaults({ paths: [AUTHORIZER_TOKEN], errcodeRate: 1, errcode: 61003 });
      const err = await rig.platform.tokensFor(A.appId).get().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WechatApiError);
      expect(err).toMatchObject({ errcode: 61003 });
      expect(rig.events).toEqual([`authorized ${A.appId}`, `unauthorized ${A.appId}`]);
      expect(await rig.platform.isAuthorized(A.appId)).toBe(false);
    }));
});
