import { openApiDocument } from '../../src/http/openapi';
import { API_KEY, APP, TEMPLATES, USER, startHarness, type Harness, type HarnessOptions } from '../helpers/harness';
import { DocumentSchemas } from '../helpers/openapi';
import { paid } from '../helpers/paid-notice';
import { startReceiver, testSecret, type Receiver, type Received } from '../outbound/receiver';

/** The events as the OpenAPI document's `webhooks` section describes them. */
const documented = new DocumentSchemas(openApiDocument());

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A notice as its events show it: the GET view without `rendered` (GET of one notice only). */
async function eventView(h: Harness, id: string): Promise<Record<string, unknown>> {
  const { rendered, ...view } = await h.get(id);
  void rendered;
  return view;
}

/** The service's clock, moved forward by the test instead of waiting for the retry schedule. */
function testClock() {
  let offset = 0;
  return { now: () => Date.now() + offset, advance: (ms: number) => (offset += ms) };
}

/** A harness whose config lists `receivers` as webhook endpoints (allowPrivate: they are on 127.0.0.1), each maybe limited to accounts. */
function withReceivers(receivers: Array<Receiver | [Receiver, string[]]>, options: HarnessOptions = {}): Promise<Harness> {
  const endpoints = receivers.map((r) => (Array.isArray(r) ? { url: r[0].url, secret: r[0].secret, accounts: r[1] } : { url: r.url, secret: r.secret }));
  return startHarness({ ...options, config: (c) => ({ ...(options.config ? options.config(c) : c), webhooks: { allowPrivate: true, endpoints } }) });
}

const byId = (requests: Received[]) => {
  const groups = new Map<string, Received[]>();
  for (const r of requests) groups.set(r.id, [...(groups.get(r.id) ?? []), r]);
  return groups;
};

/** GET /v1/webhook-deliveries with the test key. */
async function deliveries(h: Harness, query = ''): Promise<Array<Record<string, unknown>>> {
  const res = await fetch(`${h.service.url}/v1/webhook-deliveries${query}`, { headers: { authorization: `Bearer ${API_KEY}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { deliveries: Array<Record<string, unknown>> }).deliveries;
}

/** Waits until wxreach has recorded `attempts` attempts of each of `count` deliveries (the receiver sees a request before that). */
async function recorded(h: Harness, count: number, attempts: number, query = ''): Promise<Array<Record<string, unknown>>> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const ds = await deliveries(h, query);
    if (ds.length === count && ds.every((d) => (d.attempts as number) >= attempts)) return ds;
    if (Date.now() > deadline) throw new Error(`deliveries did not reach ${attempts} attempts: ${JSON.stringify(ds)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The notices' terminal events each accepted by the receiver. */
const acceptedFor = (receiver: Receiver, ids: string[], type?: string) =>
  receiver.accepted().filter((r) => ids.includes(r.payload?.data.id as string) && (type === undefined || r.type === type));

describe('status webhooks: retries', () => {
  let receiver: Receiver;
  let h: Harness;
  const clock = testClock();
  beforeAll(async () => {
    receiver = await startReceiver(testSecret());
    h = await withReceivers([receiver], { now: clock.now });
  });
  afterAll(async () => {
    await h.close();
    await receiver.close();
  });

  it('a receiver that answers 500 for a while then 200 gets every event accepted once, with the same webhook-id on each retry, verified by standardwebhooks', async () => {
    receiver.respond(() => 500);
    const stranger = 'oNOT_A_FOLLOWER_0001';
    const delivered = (await h.enqueue(paid(1))).body.id as string;
    const failed = (await h.enqueue(paid(2, stranger))).body.id as string;
    await h.waitFor(delivered, 'delivered');
    await h.waitFor(failed, 'failed');
    const ids = [delivered, failed];
    await recorded(h, 2, 1);
    expect(await deliveries(h, '?status=failed')).toEqual([
      expect.objectContaining({ status: 'failed', attempts: 1, givenUp: false, lastAttempt: expect.objectContaining({ status: 500, error: 'HTTP 500' }) }),
      expect.objectContaining({ status: 'failed', attempts: 1 }),
    ]);
    // the second attempt comes 5 s later (on the service's clock), still refused
    clock.advance(5000);
    await recorded(h, 2, 2);
    receiver.respond(() => 200);
    clock.advance(5 * MINUTE);
    await receiver.until((rs) => acceptedFor(receiver, ids).length === 2 && rs.length >= 6, 5000, 'the third attempts, accepted');
    const groups = byId(receiver.requests);
    expect(groups.size).toBe(2);
    for (const [id, attempts] of groups) {
      expect(id).toMatch(/^evt_[0-9a-f]{28}$/);
      expect(attempts.map((a) => a.answered)).toEqual([500, 500, 200]);
      expect(attempts.every((a) => a.verified)).toBe(true);
      // the same body on every attempt
      expect(new Set(attempts.map((a) => a.body)).size).toBe(1);
    }
    const delivery = acceptedFor(receiver, [delivered])[0].payload!;
    expect(delivery).toEqual({ type: 'notification.delivered', timestamp: expect.any(String), data: await eventView(h, delivered) });
    expect(acceptedFor(receiver, [failed])[0].payload).toEqual({ type: 'notification.failed', timestamp: expect.any(String), data: await eventView(h, failed) });
    expect((await h.get(failed)).reason).toBe('invalid_openid');
    // the event's time is the move's: the last history line of its view
    expect(delivery.timestamp).toBe((delivery.data.history as Array<{ at: string }>).at(-1)?.at);
    // nothing more arrives
    clock.advance(3 * 60 * MINUTE);
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.requests).toHaveLength(6);
    expect(await deliveries(h, '?status=succeeded')).toHaveLength(2);
    expect(await deliveries(h, '?status=failed')).toEqual([]);
  });
});

describe('status webhooks: order per notice and endpoint', () => {
  it('awaiting_interaction is accepted before fallback_sent is attempted, though its first attempts failed', async () => {
    const receiver = await startReceiver(testSecret());
    const clock = testClock();
    const h = await withReceivers([receiver], { now: clock.now });
    try {
      h.emulator.control.deleteTemplate(TEMPLATES.order_paid.id);
      receiver.respond(({ type }) => (type === 'notification.awaiting_interaction' ? 500 : 200));
      const notices = () => receiver.requests.filter((r) => r.type.startsWith('notification.'));
      const id = (await h.enqueue(paid(1))).body.id as string;
      await h.waitFor(id, 'awaiting_interaction');
      await receiver.until(() => notices().length === 1, 5000, 'the first attempt of awaiting_interaction');
      const answer = await h.emulator.control.userSendsText(USER, 'hello');
      expect(answer.reply).toBe('Your order A1 is paid: 1.00.');
      await h.waitFor(id, 'fallback_sent');
      // fallback_sent is recorded and due, but waits for the earlier event of its notice
      await new Promise((r) => setTimeout(r, 300));
      expect(notices().map((r) => r.type)).toEqual(['notification.awaiting_interaction']);
      receiver.respond(() => 200);
      clock.advance(5000);
      await receiver.until(() => notices().length === 3, 5000, 'the retry, then fallback_sent');
      expect(notices().map((r) => [r.type, r.answered])).toEqual([
        ['notification.awaiting_interaction', 500],
        ['notification.awaiting_interaction', 200],
        ['notification.fallback_sent', 200],
      ]);
      // each event says what the notice was at its time, not later
      const [parked, sent] = [notices()[1].payload!.data, notices()[2].payload!.data];
      // the template deleted at WeChat was an event too
      const invalid = receiver.accepted().filter((r) => r.type === 'template.invalid');
      expect(invalid.map((r) => r.payload?.data)).toEqual([expect.objectContaining({ templateId: TEMPLATES.order_paid.id, valid: false })]);
      expect(invalid.flatMap((r) => documented.webhookProblems(r.type, r.body, r.headers))).toEqual([]);
      expect(parked.status).toBe('awaiting_interaction');
      expect(parked.history).toEqual((sent.history as unknown[]).slice(0, -1));
      expect(sent).toEqual(await eventView(h, id));
    } finally {
      await h.close();
      await receiver.close();
    }
  });
});

describe('status webhooks: one endpoint does not hold up another', () => {
  it('an endpoint that never answers leaves another endpoint delivering at once', async () => {
    const dead = await startReceiver(testSecret(), () => 'hang');
    const alive = await startReceiver(testSecret());
    const h = await withReceivers([dead, alive]);
    try {
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) ids.push((await h.enqueue(paid(i))).body.id as string);
      for (const id of ids) await h.waitFor(id, 'delivered');
      const started = Date.now();
      await alive.until((rs) => rs.length === 20, 5000, 'every event at the live endpoint');
      expect(Date.now() - started).toBeLessThan(3000);
      expect(new Set(alive.accepted().map((r) => r.payload?.data.id))).toEqual(new Set(ids));
      // the dead one holds as many attempts as its connections allow, and no more
      await dead.until((rs) => rs.length === 8, 5000, 'the dead endpoint to fill its connections');
      await new Promise((r) => setTimeout(r, 200));
      expect(dead.requests).toHaveLength(8);
    } finally {
      await h.close();
      await dead.close();
      await alive.close();
    }
  });
});

describe('status webhooks: 410 Gone', () => {
  it('disables the endpoint, tells the others, holds its deliveries until it is recovered', async () => {
    const gone = await startReceiver(testSecret(), () => 410);
    const other = await startReceiver(testSecret());
    const h = await withReceivers([gone, other]);
    const api = (path: string, init: RequestInit = {}) => fetch(`${h.service.url}/v1${path}`, { ...init, headers: { authorization: `Bearer ${API_KEY}`, ...init.headers } });
    try {
      const first = (await h.enqueue(paid(1))).body.id as string;
      await h.waitFor(first, 'delivered');
      await other.until((rs) => rs.some((r) => r.type === 'webhook.endpoint_disabled'), 5000, 'webhook.endpoint_disabled');
      const endpoints = ((await (await api('/webhook-endpoints')).json()) as { endpoints: Array<Record<string, unknown>> }).endpoints;
      const goneView = endpoints.find((e) => e.url === gone.url)!;
      expect(goneView).toMatchObject({ source: 'config', disabled: { reason: 'gone' } });
      const told = other.requests.find((r) => r.type === 'webhook.endpoint_disabled')!;
      expect(told.payload?.data).toMatchObject({ id: goneView.id, url: gone.url, disabled: { reason: 'gone' } });
      expect(documented.webhookProblems(told.type, told.body, told.headers)).toEqual([]);
      expect(JSON.stringify(told.payload)).not.toContain(gone.secret);
      // later events wait while it is disabled
      const second = (await h.enqueue(paid(2))).body.id as string;
      await h.waitFor(second, 'delivered');
      await other.until((rs) => rs.filter((r) => r.type === 'notification.delivered').length === 2, 5000, 'both notices at the other endpoint');
      await new Promise((r) => setTimeout(r, 300));
      expect(gone.requests).toHaveLength(1);
      gone.respond(() => 200);
      const recovered = await api(`/webhook-endpoints/${goneView.id as string}/recover?since=${new Date(Date.now() - MINUTE).toISOString()}`, { method: 'POST' });
      expect(recovered.status).toBe(202);
      expect(await recovered.json()).toMatchObject({ endpoint: goneView.id, deliveries: 1 });
      await gone.until((rs) => rs.length === 3, 5000, 'both events after the recovery');
      expect(gone.requests.map((r) => [r.payload?.data.id, r.answered])).toEqual([[first, 410], expect.anything(), expect.anything()]);
      expect(gone.requests.slice(1).map((r) => [r.payload?.data.id, r.answered])).toEqual(expect.arrayContaining([[first, 200], [second, 200]]));
      // the same webhook-id when it comes again
      expect(gone.requests.filter((r) => r.payload?.data.id === first).map((r) => r.id)).toEqual([gone.requests[0].id, gone.requests[0].id]);
    } finally {
      await h.close();
      await gone.close();
      await other.close();
    }
  });
});

describe('status webhooks: the schedule and the 5-day rule', () => {
  it('attempts at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h later, then gives up; an endpoint failing for 5 days is disabled and the others are told', async () => {
    const failing = await startReceiver(testSecret(), () => 500);
    const other = await startReceiver(testSecret());
    const clock = testClock();
    const h = await withReceivers([failing, other], { now: clock.now });
    try {
      const endpoints = ((await (await fetch(`${h.service.url}/v1/webhook-endpoints`, { headers: { authorization: `Bearer ${API_KEY}` } })).json()) as { endpoints: Array<{ id: string; url: string }> }).endpoints;
      const only = `?endpoint=${endpoints.find((e) => e.url === failing.url)!.id}`;
      const first = (await h.enqueue(paid(1))).body.id as string;
      await h.waitFor(first, 'delivered');
      await recorded(h, 1, 1, only);
      const delays = [5000, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR];
      for (const [i, delay] of delays.entries()) {
        clock.advance(delay - 1000);
        await new Promise((r) => setTimeout(r, 150));
        expect(failing.requests).toHaveLength(i + 1);
        clock.advance(1000);
        await recorded(h, 1, i + 2, only);
      }
      const [givenUp] = await recorded(h, 1, 8, only);
      expect(givenUp).toMatchObject({ status: 'failed', attempts: 8, givenUp: true, nextAttemptAt: null });
      clock.advance(DAY);
      await new Promise((r) => setTimeout(r, 150));
      expect(failing.requests).toHaveLength(8);
      expect(new Set(failing.requests.map((r) => r.id)).size).toBe(1);
      // 5 days after its first failure, the next failure disables it
      clock.advance(5 * DAY - delays.reduce((a, b) => a + b, 0) - DAY);
      // (a notice that needs no receipt: WeChat's clock has not moved with the service's)
      const second = (await h.enqueue(paid(2, 'oNOT_A_FOLLOWER_0002'))).body.id as string;
      await h.waitFor(second, 'failed');
      await other.until((rs) => rs.some((r) => r.type === 'webhook.endpoint_disabled'), 5000, 'webhook.endpoint_disabled');
      expect(other.requests.find((r) => r.type === 'webhook.endpoint_disabled')?.payload?.data).toMatchObject({
        url: failing.url,
        disabled: { reason: 'failing', message: 'every attempt failed for 5 days' },
        failingSince: expect.any(String),
      });
      expect(failing.requests).toHaveLength(9);
      const disabled = await recorded(h, 2, 1, only);
      expect(disabled[0]).toMatchObject({ subject: second, status: 'failed', attempts: 1, givenUp: false });
    } finally {
      await h.close();
      await failing.close();
      await other.close();
    }
  });
});

describe('status webhooks: accounts', () => {
  it("a merchant that revokes the platform: account.unauthorized, then its notices' failure, to the endpoints of that account only", async () => {
    const MERCHANT = 'wxa1a1a1a1a1a1a1a1';
    const merchants = await startReceiver(testSecret());
    const own = await startReceiver(testSecret());
    const h = await withReceivers([[merchants, [MERCHANT]], [own, [APP.appId]]], {
      component: {
        keys: { appId: 'wxc0c0c0c0c0c0c0c0', appSecret: 'component-secret-0001', token: 'componenttoken', aesKey: 'Zyxwvutsrqponmlkjihgfedcba9876543210ZYXWVUT' },
        merchants: [{ account: { appId: MERCHANT, appSecret: 'merchant-secret-1', token: 'merchant1' }, templates: { order_paid: { ...TEMPLATES.order_paid, id: 'TPL_MERCHANT_ORDER_PAID' } }, users: [USER] }],
        templateDefaults: { order_paid: { title: TEMPLATES.order_paid.title, fallback: TEMPLATES.order_paid.fallback } },
      },
    });
    try {
      await h.emulator.control.component.authorize(MERCHANT);
      h.emulator.control.account(MERCHANT).setReceiptOutcome({ openid: USER, outcome: 'none' });
      // once wxreach has found the merchant's template (by its title, after the authorisation)
      const templates = async () => {
        const res = await fetch(`${h.service.url}/v1/templates?account=${MERCHANT}`, { headers: { authorization: `Bearer ${API_KEY}` } });
        return res.status === 200 ? ((await res.json()) as { templates: Array<{ valid: boolean }> }).templates : [];
      };
      for (let i = 0; i < 200 && !(await templates()).some((t) => t.valid); i++) await new Promise((r) => setTimeout(r, 20));
      const waiting = (await h.enqueue({ ...paid(1), account: MERCHANT })).body;
      await h.waitFor(waiting.id as string, 'awaiting_receipt');
      await h.emulator.control.component.unauthorize(MERCHANT);
      await h.waitFor(waiting.id as string, 'failed');
      await merchants.until((rs) => rs.length === 2, 5000, 'the revocation and the failure');
      // (two subjects: no order between them)
      expect(merchants.requests.map((r) => [r.type, r.payload?.data])).toEqual(
        expect.arrayContaining([
          ['account.unauthorized', { appid: MERCHANT, kind: 'authorizer', state: 'unauthorized' }],
          ['notification.failed', expect.objectContaining({ id: waiting.id, account: MERCHANT, reason: 'account_unauthorized' })],
        ]),
      );
      const ownNotice = (await h.enqueue(paid(2))).body.id as string;
      await h.waitFor(ownNotice, 'delivered');
      await own.until((rs) => rs.length === 1, 5000, "the own account's event");
      expect(own.requests.map((r) => [r.type, r.payload?.data.id])).toEqual([['notification.delivered', ownNotice]]);
    } finally {
      await h.close();
      await merchants.close();
      await own.close();
    }
  });
});

describe('status webhooks: in memory (demo mode)', () => {
  it('the in-memory store records and delivers the events too', async () => {
    const receiver = await startReceiver(testSecret());
    const h = await withReceivers([receiver], { memory: true });
    try {
      h.emulator.control.deleteTemplate(TEMPLATES.order_paid.id);
      await h.emulator.control.userSendsText(USER, 'hi');
      const id = (await h.enqueue(paid(1))).body.id as string;
      await h.waitFor(id, 'fallback_sent');
      await receiver.until((rs) => rs.some((r) => r.type === 'notification.fallback_sent'), 5000, 'fallback_sent');
      expect(receiver.requests.find((r) => r.type === 'notification.fallback_sent')?.payload?.data).toEqual(await eventView(h, id));
    } finally {
      await h.close();
      await receiver.close();
    }
  });
});

describe('status webhooks: templates', () => {
  it('template.invalid when WeChat no longer has it, template.valid when it is back in the list', async () => {
    const receiver = await startReceiver(testSecret());
    const h = await withReceivers([receiver], { config: (c) => ({ ...c, templateSync: { intervalSeconds: 1 } }) });
    try {
      const { id: templateId, title, content } = TEMPLATES.seat_ready;
      h.emulator.control.deleteTemplate(templateId);
      await receiver.until((rs) => rs.some((r) => r.type === 'template.invalid'), 5000, 'template.invalid (found missing by the sync)');
      h.emulator.control.addTemplate({ template_id: templateId, title, content });
      await receiver.until((rs) => rs.some((r) => r.type === 'template.valid'), 5000, 'template.valid');
      expect(receiver.accepted().map((r) => [r.type, r.payload?.data])).toEqual([
        ['template.invalid', { account: APP.appId, templateId, valid: false, since: expect.any(String), reason: 'missing from the template list' }],
        ['template.valid', { account: APP.appId, templateId, valid: true, since: expect.any(String), reason: null }],
      ]);
    } finally {
      await h.close();
      await receiver.close();
    }
  });
});
