import { API_KEY, APP, TEMPLATES, USER, sleep, startHarness, type Harness } from '../helpers/harness';
import { COMPONENT, merchant, platformWith, REFUSED, refusingSecret, SECOND } from '../helpers/accounts';

/**
 * One deployment, many accounts: two own accounts (the env one, APP, and SECOND from `accounts`)
 * and a third-party platform with three merchants, all played by one emulator, on the test Redis.
 * The same openid (USER) follows every account.
 */
const MERCHANTS = [merchant('wxa1a1a1a1a1a1a1a1', 1), merchant('wxa2a2a2a2a2a2a2a2', 2), merchant('wxa3a3a3a3a3a3a3a3', 3)];
const [M1, M2, M3] = MERCHANTS.map((m) => m.account.appId);
const A2 = SECOND.account.appId;
/** A key that may use the second account only. */
const LIMITED_KEY = 'limited-key-0123456789';

const body = (account?: string, extra: Record<string, unknown> = {}) => ({
  ...(account ? { account } : {}),
  openid: USER,
  template: 'order_paid',
  data: { order_no: 'A1', amount: '9.90' },
  ...extra,
});

describe('many accounts in one deployment', () => {
  let h: Harness;

  async function call(method: string, path: string, key = API_KEY, payload?: unknown) {
    const res = await fetch(`${h.service.url}${path}`, {
      method,
      redirect: 'manual',
      headers: { authorization: `Bearer ${key}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      body: payload === undefined ? undefined : JSON.stringify(payload),
    });
    const text = await res.text();
    // JSON answers of several shapes, read field by field in the tests
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: res.status, body: (text.startsWith('{') ? JSON.parse(text) : text) as Record<string, any>, location: res.headers.get('location') };
  }

  beforeAll(async () => {
    h = await startHarness({
      more: [SECOND, REFUSED],
      config: refusingSecret,
      component: platformWith(MERCHANTS),
      extraApiKeys: [`${LIMITED_KEY}=${A2}`],
    });
    // Merchants 2 and 3 authorise the platform as WeChat tells it (the `authorized` push).
    for (const appid of [M2, M3]) await h.emulator.control.component.authorize(appid);
    for (let i = 0; i < 200 && (await call('GET', '/v1/accounts')).body.accounts.length < 5; i++) await sleep(20);
  }, 30_000);
  afterAll(() => h.close());

  it("never logs an account's or the platform's secrets, nor an API key, once the service has started", () => {
    const secrets = [APP.appSecret, APP.token, SECOND.account.appSecret, SECOND.account.token, COMPONENT.appSecret, COMPONENT.token, COMPONENT.aesKey, API_KEY, LIMITED_KEY];
    // the harness's logger knew none of them: the service registered each when it started
    h.log.error('a call failed', { detail: secrets.join(' '), err: new Error(`refused: ${secrets.join(',')}`) });
    const line = h.logs().trim().split('\n').at(-1) as string;
    expect(JSON.parse(line)).toMatchObject({ message: 'a call failed', err: { message: expect.stringMatching(/^refused: \[REDACTED\],/) } });
    for (const s of secrets) expect([s, line.includes(s)]).toEqual([s, false]);
  });

  it('lists the accounts with their state, and /wechat alone no longer names one', async () => {
    const { body: listed } = await call('GET', '/v1/accounts');
    expect(listed.accounts.map((a: { appid: string }) => a.appid).sort()).toEqual([APP.appId, A2, REFUSED.account.appId, M2, M3].sort());
    expect(listed.accounts.find((a: { appid: string }) => a.appid === M2)).toMatchObject({ kind: 'authorizer', state: 'active', token: { ok: true } });
    const res = await fetch(`${h.service.url}/wechat?signature=x&timestamp=1&nonce=1`, { method: 'POST', body: '<xml/>' });
    expect(res.status).toBe(404);
  });

  it('the same openid in two own accounts is two users: each account sends its own template and gets its own receipt', async () => {
    const first = await call('POST', '/v1/notifications', API_KEY, body(APP.appId));
    const second = await call('POST', '/v1/notifications', API_KEY, body(A2));
    expect([first.status, second.status]).toEqual([202, 202]);
    const [n1, n2] = [await h.waitFor(first.body.id, 'delivered'), await h.waitFor(second.body.id, 'delivered')];
    expect(n1).toMatchObject({ account: APP.appId, templateId: TEMPLATES.order_paid.id });
    expect(n2).toMatchObject({ account: A2, templateId: 'TPL_SECOND_ORDER_PAID_001' });
    // the emulator hands out msgids per account: both got the same one, and each receipt found its own notice
    expect(n1.msgid).toBe(n2.msgid);
    expect(h.emulator.control.account(APP.appId).inbox(USER).filter((e) => e.msgid === n1.msgid)).toHaveLength(1);
    expect(h.emulator.control.account(A2).inbox(USER).filter((e) => e.msgid === n2.msgid)).toHaveLength(1);
  });

  it('without "account", a key that can use several accounts gets 400; a key limited to one uses it', async () => {
    const missing = await call('POST', '/v1/notifications', API_KEY, body());
    expect(missing.status).toBe(400);
    expect(missing.body.error.details).toEqual([{ field: 'account', message: expect.stringContaining('required') }]);
    const limited = await call('POST', '/v1/notifications', LIMITED_KEY, body());
    expect(limited.status).toBe(202);
    // only the key that made it may read it
    expect((await call('GET', `/v1/notifications/${limited.body.id}`, LIMITED_KEY)).body).toMatchObject({ account: A2 });
    expect((await call('GET', `/v1/notifications/${limited.body.id}`)).status).toBe(404);
  });

  it('a key limited to one account cannot read or enqueue for another', async () => {
    const mine = await call('POST', '/v1/notifications', API_KEY, body(APP.appId));
    expect((await call('GET', `/v1/notifications/${mine.body.id}`, LIMITED_KEY)).status).toBe(404);
    const denied = await call('POST', '/v1/notifications', LIMITED_KEY, body(APP.appId));
    expect(denied.status).toBe(403);
    const accounts = await call('GET', '/v1/accounts', LIMITED_KEY);
    expect(accounts.body.accounts.map((a: { appid: string }) => a.appid)).toEqual([A2]);
  });

  it("a refused token stalls that account only: its notice waits, the others' are delivered, and the instance stays ready", async () => {
    const stalled = await call('POST', '/v1/notifications', API_KEY, body(REFUSED.account.appId));
    const fine = await call('POST', '/v1/notifications', API_KEY, body(APP.appId, { data: { order_no: 'T1', amount: '1' } }));
    expect(await h.waitFor(fine.body.id, 'delivered')).toMatchObject({ account: APP.appId });
    for (let i = 0; i < 200 && (await call('GET', '/v1/accounts')).body.accounts.find((a: { appid: string }) => a.appid === REFUSED.account.appId).token.ok; i++) await sleep(20);
    const refused = (await call('GET', '/v1/accounts')).body.accounts.find((a: { appid: string }) => a.appid === REFUSED.account.appId);
    expect(refused.token).toMatchObject({ ok: false, errcode: expect.any(Number) });
    expect((await h.get(stalled.body.id)).status).toBe('queued');
    const ready = await fetch(`${h.service.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { wechat: Array<{ account: string }> }).wechat).toEqual([expect.objectContaining({ account: REFUSED.account.appId })]);
  });

  it('a spent template quota (45009) pauses that account only', async () => {
    // SECOND may send one template a day; earlier tests used it up
    const paused = await call('POST', '/v1/notifications', API_KEY, body(A2, { data: { order_no: 'Q2', amount: '1' } }));
    const other = await call('POST', '/v1/notifications', API_KEY, body(APP.appId, { data: { order_no: 'Q1', amount: '1' } }));
    await h.emulator.control.account(A2).userSendsText(USER, 'hi'); // the window is open: the fallback can go out
    const n = await h.waitFor(paused.body.id, 'fallback_sent');
    expect((n.history as Array<{ detail: string }>).map((e) => e.detail).join('\n')).toMatch(/45009|quota/);
    expect(await h.waitFor(other.body.id, 'delivered')).toMatchObject({ channel: 'template' });
    const accounts = (await call('GET', '/v1/accounts')).body.accounts as Array<{ appid: string; templateQuota: { paused: boolean } }>;
    expect(accounts.find((a) => a.appid === A2)?.templateQuota.paused).toBe(true);
    expect(accounts.find((a) => a.appid === APP.appId)?.templateQuota.paused).toBe(false);
  });

  it('onboards a merchant through the authorisation link and sends for it with its own template id (found by title)', async () => {
    const link = await call('GET', `/v1/component/authorize-url?next=${encodeURIComponent('https://crm.example/onboarded')}`);
    expect(link.status).toBe(200);
    // the merchant consents on WeChat's page (the emulator's), which sends the browser to wxreach
    const consent = await fetch(`${link.body.url}&biz_appid=${M1}`, { redirect: 'manual' });
    expect(consent.status).toBe(302);
    const back = await fetch(consent.headers.get('location') as string, { redirect: 'manual' });
    expect(back.status).toBe(302);
    expect(back.headers.get('location')).toBe(`https://crm.example/onboarded?authorizer_appid=${M1}`);
    await h.service.account(M1).delivery.templates.sync();

    const sent = await call('POST', '/v1/notifications', API_KEY, body(M1));
    expect(sent.status).toBe(202);
    expect(await h.waitFor(sent.body.id, 'delivered')).toMatchObject({ account: M1, templateId: 'TPL_MERCHANT_1_ORDER_PAID' });
    expect(h.emulator.control.account(M1).inbox(USER).filter((e) => e.channel === 'template')).toHaveLength(1);
  });

  it("a merchant's user message reaches its account through the platform's crypto, and opens only its window", async () => {
    h.emulator.control.account(M3).setReceiptOutcome({ openid: USER, outcome: 'failed:user block' });
    const reply = await h.emulator.control.account(M3).userSendsText(USER, 'hello');
    expect(reply.raw).toBe('success');
    const sent = await call('POST', '/v1/notifications', API_KEY, body(M3));
    expect(await h.waitFor(sent.body.id, 'fallback_sent')).toMatchObject({ account: M3, channel: 'customer_service' });
    expect(h.emulator.control.account(M3).inbox(USER).at(-1)).toMatchObject({ channel: 'customer_service', text: 'Your order A1 is paid: 9.90.' });
  });

  it('a merchant that revokes: its notices end failed (account_unauthorized), new ones get 409, its pushes 404', async () => {
    h.emulator.control.account(M2).setReceiptOutcome({ openid: USER, outcome: 'none' });
    const waiting = await call('POST', '/v1/notifications', API_KEY, body(M2));
    await h.waitFor(waiting.body.id, 'awaiting_receipt');
    await h.emulator.control.component.unauthorize(M2);

    const ended = await h.waitFor(waiting.body.id, 'failed');
    expect(ended.reason).toBe('account_unauthorized');
    expect((ended.history as Array<{ detail: string }>).at(-1)?.detail).toMatch(/revoked its authorisation while awaiting the receipt of msgid \d+/);
    expect((await call('POST', '/v1/notifications', API_KEY, body(M2))).status).toBe(409);
    const push = await fetch(`${h.service.url}/wechat/${M2}?signature=x&timestamp=1&nonce=1`, { method: 'POST', body: '<xml/>' });
    expect(push.status).toBe(404);
  });

  it("passes WeChat's full-network release test (the platform's test accounts only)", async () => {
    const report = await h.emulator.control.component.releaseTest();
    expect(report.checks.filter((c) => !c.pass)).toEqual([]);
    expect(report.pass).toBe(true);
  });
});
