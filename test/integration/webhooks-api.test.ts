import { secretKey } from '../../src/outbound/signature';
import { API_KEY, APP, startHarness, type Harness } from '../helpers/harness';
import { paid } from '../helpers/paid-notice';
import { startReceiver, testSecret, type Receiver } from '../outbound/receiver';

const SECOND_KEY = 'second-client-key-0123456789';
const OTHER_APP = 'wx9999999999999999';
const LIMITED_KEY = `limited-client-key-0123456789=${APP.appId}`;

type Json = Record<string, unknown>;

function client(h: Harness, key = API_KEY) {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${h.service.url}/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${key.split('=')[0]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as Json };
  };
  return {
    call,
    create: (body: unknown) => call('POST', '/webhook-endpoints', body),
    list: async () => (await call('GET', '/webhook-endpoints')).body.endpoints as Json[],
    deliveries: async (query = '') => (await call('GET', `/webhook-deliveries${query}`)).body,
  };
}

describe('webhook endpoints through the API: addresses', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it.each([
    'http://hooks.example.com/',
    'https://127.0.0.1/hooks',
    'https://localhost/hooks',
    'https://[::1]/',
    'https://[::ffff:127.0.0.1]/',
    'https://[::ffff:a9fe:a9fe]/',
    'https://10.0.0.8/',
    'https://100.64.0.1/',
    'https://169.254.169.254/latest/meta-data',
    'https://[fd00::1]/',
    'https://[fe80::1]/',
    'https://224.0.0.1/',
    'https://2130706433/',
    'https://user:password@hooks.example.com/',
  ])('refuses %s, and registers nothing', async (url) => {
    const api = client(h);
    const res = await api.create({ url });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_request', details: [{ field: 'url', message: expect.any(String) }] });
    expect(await api.list()).toEqual([]);
  });
});

describe('webhook endpoints through the API', () => {
  let h: Harness;
  let receiver: Receiver;
  beforeAll(async () => {
    h = await startHarness({
      extraApiKeys: [SECOND_KEY, LIMITED_KEY],
      config: (c) => ({ ...c, webhooks: { allowPrivate: true, endpoints: [] } }),
    });
  });
  beforeEach(async () => {
    receiver = await startReceiver(testSecret());
  });
  afterEach(async () => {
    await receiver.close();
    for (const key of [API_KEY, SECOND_KEY, LIMITED_KEY]) {
      const api = client(h, key);
      for (const e of await api.list()) if (e.source === 'api') await api.call('DELETE', `/webhook-endpoints/${e.id as string}`);
    }
  });
  afterAll(() => h.close());

  /** Registers `receiver` for `key`; it verifies with the secret shown once. */
  async function register(key: string): Promise<Json> {
    const res = await client(h, key).create({ url: receiver.url });
    expect(res.status).toBe(201);
    receiver.verifyWith(res.body.secret as string);
    return res.body;
  }

  it('shows the secret once, never again; another key does not see the endpoint at all', async () => {
    const api = client(h);
    const res = await api.create({ url: receiver.url, events: ['notification.delivered'], description: 'orders' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^ep_[0-9a-f]{24}$/),
      url: receiver.url,
      description: 'orders',
      source: 'api',
      events: ['notification.delivered'],
      accounts: null,
      createdAt: expect.any(String),
      disabled: null,
      failingSince: null,
      secret: expect.stringMatching(/^whsec_/),
    });
    expect(secretKey(res.body.secret as string)).toHaveLength(32);
    const id = res.body.id as string;
    const view = Object.fromEntries(Object.entries(res.body).filter(([k]) => k !== 'secret'));
    expect(await api.list()).toEqual([view]);
    expect((await api.call('GET', `/webhook-endpoints/${id}`)).body).toEqual(view);
    expect(JSON.stringify(await api.list())).not.toContain(res.body.secret as string);
    expect(h.logs()).not.toContain(res.body.secret as string);
    const other = client(h, SECOND_KEY);
    expect(await other.list()).toEqual([]);
    expect(await other.call('GET', `/webhook-endpoints/${id}`)).toEqual({ status: 404, body: { error: { code: 'not_found', message: `no webhook endpoint ${id}` } } });
    expect((await other.call('DELETE', `/webhook-endpoints/${id}`)).status).toBe(404);
    expect((await other.call('POST', `/webhook-endpoints/${id}/recover?since=2026-01-01T00:00:00Z`)).status).toBe(404);
    expect((await api.call('DELETE', `/webhook-endpoints/${id}`)).status).toBe(204);
    expect(await api.list()).toEqual([]);
  });

  it('refuses bad bodies with the field named', async () => {
    const api = client(h);
    for (const [body, field] of [
      [{}, 'url'],
      [{ url: receiver.url, events: ['notification.sent'] }, 'events.0'],
      [{ url: receiver.url, events: [] }, 'events'],
      [{ url: receiver.url, accounts: ['not-an-appid'] }, 'accounts.0'],
      // the secret is wxreach's to make
      [{ url: receiver.url, secret: 'whsec_x' }, '(body)'],
    ] as const) {
      const res = await api.create(body);
      expect([res.status, res.body.error]).toEqual([400, expect.objectContaining({ code: 'invalid_request', details: expect.arrayContaining([expect.objectContaining({ field })]) })]);
    }
    const unknown = await api.create({ url: receiver.url, accounts: [OTHER_APP] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ code: 'unknown_account' });
    const text = await fetch(`${h.service.url}/v1/webhook-endpoints`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'text/plain' }, body: 'x' });
    expect(text.status).toBe(415);
    expect(await api.list()).toEqual([]);
  });

  it("a key limited to accounts registers endpoints limited to them, and cannot name another", async () => {
    const api = client(h, LIMITED_KEY);
    const mine = await api.create({ url: receiver.url });
    expect(mine.body).toMatchObject({ accounts: [APP.appId] });
    const other = await api.create({ url: receiver.url, accounts: [OTHER_APP] });
    expect(other.status).toBe(403);
    expect(other.body.error).toMatchObject({ code: 'forbidden' });
  });

  it("an endpoint gets the events of its own key's notices only, and its deliveries can be listed, read and sent again", async () => {
    const endpoint = await register(SECOND_KEY);
    const theirs = (await h.enqueue(paid(1))).body.id as string;
    const mineRes = await fetch(`${h.service.url}/v1/notifications`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${SECOND_KEY}` },
      body: JSON.stringify(paid(2)),
    });
    const mine = ((await mineRes.json()) as Json).id as string;
    await h.waitFor(theirs, 'delivered');
    await receiver.until((rs) => rs.length === 1, 5000, "the second key's notice");
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver.requests.map((r) => [r.type, r.payload?.data.id, r.verified])).toEqual([['notification.delivered', mine, true]]);

    const api = client(h, SECOND_KEY);
    const listed = await api.deliveries(`?endpoint=${endpoint.id as string}`);
    expect(listed).toEqual({
      deliveries: [
        {
          id: `${receiver.requests[0].id}.${endpoint.id as string}`,
          endpoint: endpoint.id,
          webhookId: receiver.requests[0].id,
          type: 'notification.delivered',
          account: APP.appId,
          subject: mine,
          status: 'succeeded',
          attempts: 1,
          nextAttemptAt: null,
          givenUp: false,
          createdAt: expect.any(String),
          lastAttempt: { at: expect.any(String), ms: expect.any(Number), status: 200 },
        },
      ],
      next: null,
    });
    expect(await api.deliveries('?status=failed')).toEqual({ deliveries: [], next: null });
    expect((await client(h).deliveries()).deliveries).toEqual([]);
    const deliveryId = (listed.deliveries as Json[])[0].id as string;
    const detail = await api.call('GET', `/webhook-deliveries/${deliveryId}`);
    expect(detail.body).toMatchObject({ id: deliveryId, payload: JSON.parse(receiver.requests[0].body), attemptLog: [{ status: 200 }] });
    expect((await client(h).call('GET', `/webhook-deliveries/${deliveryId}`)).status).toBe(404);

    // sent again by hand: the same webhook-id, once more
    const retried = await api.call('POST', `/webhook-deliveries/${deliveryId}/retry`);
    expect(retried).toEqual({ status: 202, body: { id: deliveryId, status: 'queued' } });
    await receiver.until((rs) => rs.length === 2, 5000, 'the resend');
    expect(receiver.requests[1].id).toBe(receiver.requests[0].id);
    expect(receiver.requests[1].body).toBe(receiver.requests[0].body);
    expect((await client(h).call('POST', `/webhook-deliveries/${deliveryId}/retry`)).status).toBe(404);
    expect((await api.call('POST', '/webhook-deliveries/evt_nope/retry')).status).toBe(404);
  });

  it('checks the deliveries query', async () => {
    const api = client(h);
    for (const query of ['?status=lost', '?limit=0', '?limit=101', '?after=x', '?extra=1']) {
      const res = await api.call('GET', `/webhook-deliveries${query}`);
      expect([query, res.status, (res.body.error as Json).code]).toEqual([query, 400, 'invalid_request']);
    }
    expect((await api.call('GET', '/webhook-deliveries?endpoint=ep_unknown')).status).toBe(404);
    const endpoint = (await api.create({ url: receiver.url })).body;
    const bad = await api.call('POST', `/webhook-endpoints/${endpoint.id as string}/recover?since=yesterday`);
    expect([bad.status, (bad.body.error as Json).code]).toEqual([400, 'invalid_request']);
  });
});
