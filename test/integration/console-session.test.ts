import { API_KEY, startHarness, type Harness } from '../helpers/harness';
import { SECOND } from '../helpers/accounts';
import { testRedisClient, type TestRedisClient } from '../helpers/stored-notices';
import { randomBytes } from 'node:crypto';

const LIMITED_KEY = 'limited-console-key-0123456789';

/** Signs in with `apiKey`; the answer's status and the cookie it set (`name=value`), if any. */
async function signIn(base: string, apiKey: string): Promise<{ status: number; setCookie: string | null; cookie: string | null; body: string }> {
  const res = await fetch(`${base}/console/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apiKey }) });
  const setCookie = res.headers.getSetCookie()[0] ?? null;
  return { status: res.status, setCookie, cookie: setCookie?.split(';')[0] ?? null, body: await res.text() };
}

const session = async (base: string, cookie: string) => {
  const res = await fetch(`${base}/console/session`, { headers: { cookie } });
  return { status: res.status, body: (await res.json()) as { csrf: string; accounts: string[] | null; operator: boolean } };
};

describe('console sessions', () => {
  const prefix = `tcs${randomBytes(4).toString('hex')}`;
  let h: Harness;
  let redis: TestRedisClient;
  beforeAll(async () => {
    h = await startHarness({ more: [SECOND], extraApiKeys: [`${LIMITED_KEY}=${SECOND.account.appId}`], redisPrefix: prefix });
    redis = await testRedisClient();
  });
  afterAll(async () => {
    await h.close();
    await redis.quit();
  });

  it('a wrong key gets 401 and no cookie; a good one gets an httpOnly SameSite=Strict cookie, and GET /console/session gives the CSRF token and the accounts', async () => {
    const wrong = await signIn(h.service.url, 'not-a-key-of-this-deployment');
    expect(wrong.status).toBe(401);
    expect(wrong.setCookie).toBeNull();
    expect(JSON.parse(wrong.body)).toEqual({ error: { code: 'unauthorized', message: 'this API key is not accepted here' } });

    const empty = await fetch(`${h.service.url}/console/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"apiKey":""}' });
    expect(empty.status).toBe(400);
    expect(empty.headers.getSetCookie()).toEqual([]);

    const good = await signIn(h.service.url, API_KEY);
    expect(good.status).toBe(204);
    expect(good.setCookie).toMatch(/^wxr_console=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    const s = await session(h.service.url, good.cookie as string);
    expect(s).toEqual({ status: 200, body: { csrf: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), accounts: null, operator: false } });
    expect(h.logs()).not.toContain(API_KEY);
    // behind a proxy that terminates https, the cookie is Secure
    const proxied = await fetch(`${h.service.url}/console/session`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https' }, body: JSON.stringify({ apiKey: API_KEY }) });
    expect(proxied.headers.getSetCookie()[0]).toMatch(/; Secure$/);

    expect((await fetch(`${h.service.url}/console/session`)).status).toBe(401);
    expect((await fetch(`${h.service.url}/console/session`, { headers: { cookie: 'wxr_console=made-up' } })).status).toBe(401);
  });

  it('the cookie opens /v1 as the key does; a change without x-csrf-token is refused 403 csrf and changes nothing', async () => {
    const { cookie } = await signIn(h.service.url, API_KEY);
    const headers = { cookie: cookie as string, 'content-type': 'application/json' };
    const { csrf } = (await session(h.service.url, cookie as string)).body;
    const endpoints = async () => ((await (await fetch(`${h.service.url}/v1/webhook-endpoints`, { headers })).json()) as { endpoints: unknown[] }).endpoints;
    expect(await endpoints()).toEqual([]);

    const body = JSON.stringify({ url: 'http://127.0.0.1:9/wxreach' });
    for (const bad of [{}, { 'x-csrf-token': 'x'.repeat(43) }] as Array<Record<string, string>>) {
      const refused = await fetch(`${h.service.url}/v1/webhook-endpoints`, { method: 'POST', headers: { ...headers, ...bad }, body });
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('csrf');
    }
    expect(await endpoints()).toEqual([]);
    // with the token the request gets past the auth to the route (whose address guard then refuses a private http URL: 400)
    const accepted = await fetch(`${h.service.url}/v1/webhook-endpoints`, { method: 'POST', headers: { ...headers, 'x-csrf-token': csrf }, body });
    expect(accepted.status).toBe(400);
    expect(((await accepted.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
  });

  it('a key limited to one account signs in to that account only', async () => {
    const { cookie } = await signIn(h.service.url, LIMITED_KEY);
    expect((await session(h.service.url, cookie as string)).body.accounts).toEqual([SECOND.account.appId]);
    const accounts = (await (await fetch(`${h.service.url}/v1/accounts`, { headers: { cookie: cookie as string } })).json()) as { accounts: Array<{ appid: string }> };
    expect(accounts.accounts.map((a) => a.appid)).toEqual([SECOND.account.appId]);
  });

  it('the store keeps only a digest of the session id; another instance knows the session; a key no longer configured ends its sessions; signing out ends it everywhere', async () => {
    const full = (await signIn(h.service.url, API_KEY)).cookie as string;
    const limited = (await signIn(h.service.url, LIMITED_KEY)).cookie as string;
    const ids = [full, limited].map((c) => c.split('=')[1]);
    const keys: string[] = [];
    for await (const batch of redis.scanIterator({ MATCH: `*${prefix}*`, COUNT: 1000 })) keys.push(...batch);
    const sessionKeys = keys.filter((k) => k.includes('console-session:'));
    expect(sessionKeys.length).toBeGreaterThanOrEqual(2);
    for (const key of sessionKeys) {
      const value = (await redis.get(key)) as string;
      for (const secret of [...ids, API_KEY, LIMITED_KEY]) expect(`${key} ${value}`).not.toContain(secret);
      expect(await redis.pTTL(key)).toBeGreaterThan(12 * 3600 * 1000 - 60_000);
    }

    // a second instance on the same store, configured without the limited key
    const other = await startHarness({ more: [SECOND], redisPrefix: prefix });
    try {
      const accounts = (base: string, cookie: string) => fetch(`${base}/v1/accounts`, { headers: { cookie } }).then((r) => r.status);
      expect(await accounts(other.service.url, full)).toBe(200);
      expect(await accounts(other.service.url, limited)).toBe(401);
      expect(await accounts(h.service.url, limited)).toBe(200);

      const { csrf } = (await session(h.service.url, full)).body;
      expect((await fetch(`${h.service.url}/console/session`, { method: 'DELETE', headers: { cookie: full } })).status).toBe(403);
      expect(await accounts(other.service.url, full)).toBe(200);
      const out = await fetch(`${h.service.url}/console/session`, { method: 'DELETE', headers: { cookie: full, 'x-csrf-token': csrf } });
      expect(out.status).toBe(204);
      expect(out.headers.getSetCookie()[0]).toMatch(/^wxr_console=; .*Max-Age=0/);
      expect(await accounts(other.service.url, full)).toBe(401);
      expect(await accounts(h.service.url, full)).toBe(401);
    } finally {
      await other.close();
    }
  });
});
