import { API_KEY, APP, TEMPLATES, USER, startHarness, type Harness } from '../helpers/harness';
import { openApiDocument } from '../../src/http/openapi';
import { DocumentSchemas } from '../helpers/openapi';
import { paid } from '../helpers/paid-notice';
import { startReceiver, testSecret, type Receiver } from '../outbound/receiver';
import { redisAdmin, type RedisAdmin } from '../store/redis-admin';

/**
 * Finding notices again through the API (real HTTP, a real Redis, the emulator as WeChat): by
 * user, by a business field, the parked ones; who may read whose; the timeline of one notice (the
 * WeChat calls behind its steps, the template as WeChat shows it, its webhook deliveries).
 */

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON answers read field by field

const SECOND_KEY = 'second-client-key-0123456789';
const OPERATOR_KEY = 'operator-key-0123456789abc';
const OTHER_APP = 'wx9999999999999999';
/** An operator key limited to another account than the test one. */
const ELSEWHERE_OPERATOR_KEY = `elsewhere-operator-0123456789=${OTHER_APP}`;
const OTHER_USER = 'oUSER_harness_0002';
const RETENTION_SECONDS = 30 * 86_400;
const PREFIX = `tsearch${process.pid}`;
const schemas = new DocumentSchemas(openApiDocument());
/** The problems of an answer against a named schema of the OpenAPI document ([] when it matches). */
const problems = (name: string, value: unknown) => schemas.problems(['components', 'schemas', name], value);

describe('notice search and timeline', () => {
  let h: Harness;
  let admin: RedisAdmin;
  let receiver: Receiver;

  beforeAll(async () => {
    h = await startHarness({
      redisPrefix: PREFIX,
      extraApiKeys: [SECOND_KEY],
      config: (c) => ({
        ...c,
        operatorKeys: [OPERATOR_KEY, ELSEWHERE_OPERATOR_KEY],
        searchFields: ['order_no'],
        webhooks: { allowPrivate: true, endpoints: [] },
      }),
    });
    h.emulator.control.addUser({ openid: OTHER_USER });
    admin = await redisAdmin({ url: process.env.TEST_REDIS_URL as string });
    receiver = await startReceiver(testSecret());
  });
  afterAll(async () => {
    await receiver.close();
    await admin.close();
    await h.close();
  });

  async function call(key: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
    const res = await fetch(`${h.service.url}/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${key.split('=')[0]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Json };
  }
  const get = (key: string, path: string) => call(key, 'GET', path);
  const send = async (key: string, notices: unknown[]): Promise<string[]> => {
    const res = await call(key, 'POST', '/notifications/batch', { notifications: notices });
    expect(res.status).toBe(207);
    return (res.body.results as Json[]).map((r) => r.id as string);
  };

  /** Every page of a search, followed with `next`; the ids in order, and the pages' sizes. */
  async function allPages(key: string, query: string, limit: number): Promise<{ ids: string[]; sizes: number[]; items: Json[] }> {
    const items: Json[] = [];
    const sizes: number[] = [];
    let after: string | null = null;
    for (let i = 0; i < 50; i++) {
      const res = await get(key, `/notifications?${query}&limit=${limit}${after ? `&after=${after}` : ''}`);
      expect([query, res.status]).toEqual([query, 200]);
      items.push(...(res.body.items as Json[]));
      sizes.push((res.body.items as Json[]).length);
      after = res.body.next as string | null;
      if (after === null) return { ids: items.map((n) => n.id as string), sizes, items };
    }
    throw new Error('more than 50 pages');
  }

  /** Newest first: by accept time, equal times by id reversed. */
  const newestFirst = (items: Json[]) =>
    [...items].sort((a, b) => Date.parse(b.history[0].at) - Date.parse(a.history[0].at) || (a.id < b.id ? 1 : -1)).map((n) => n.id as string);

  it("finds a user's notices newest first, 50 to a page without gaps or repeats; a business key only its own, an operator key every client's", async () => {
    const mine = await send(API_KEY, Array.from({ length: 120 }, (_, i) => paid(i)));
    const theirs = await send(SECOND_KEY, [paid(1000), paid(1001)]);
    await send(API_KEY, [paid(2000, OTHER_USER)]);

    const own = await allPages(API_KEY, `openid=${USER}`, 50);
    expect(own.sizes).toEqual([50, 50, 20]);
    expect(problems('NotificationPage', (await get(API_KEY, `/notifications?openid=${USER}&limit=2`)).body)).toEqual([]);
    expect([...own.ids].sort()).toEqual([...mine].sort());
    expect(own.ids).toEqual(newestFirst(own.items));
    expect(own.items.every((n) => n.openid === USER && n.account === APP.appId)).toBe(true);

    const second = await allPages(SECOND_KEY, `openid=${USER}`, 50);
    expect([...second.ids].sort()).toEqual([...theirs].sort());

    const operator = await allPages(OPERATOR_KEY, `openid=${USER}&account=${APP.appId}`, 50);
    expect(operator.sizes).toEqual([50, 50, 22]);
    expect([...operator.ids].sort()).toEqual([...mine, ...theirs].sort());
    expect(operator.ids).toEqual(newestFirst(operator.items));

    // the operator key reads another client's notice by id; a business key gets 404, as for an unknown id
    expect((await get(OPERATOR_KEY, `/notifications/${theirs[0]}`)).body).toMatchObject({ id: theirs[0], openid: USER });
    expect(await get(API_KEY, `/notifications/${theirs[0]}`)).toEqual({ status: 404, body: { error: { code: 'not_found', message: `no notification ${theirs[0]}` } } });
  });

  it('finds notices by a business field listed in searchFields, and refuses any other field', async () => {
    const [a, b] = await send(API_KEY, [
      { ...paid(1), data: { order_no: 'FIND-ME', amount: '1.00' } },
      { ...paid(2, OTHER_USER), data: { order_no: 'FIND-ME', amount: '2.00' } },
      { ...paid(3), data: { order_no: 'NOT-ME', amount: '1.00' } },
    ]);
    const [c] = await send(SECOND_KEY, [{ ...paid(4), data: { order_no: 'FIND-ME', amount: '3.00' } }]);

    const own = await allPages(API_KEY, 'field=order_no&value=FIND-ME', 1);
    expect(own.ids).toEqual([b, a]);
    expect(own.sizes).toEqual([1, 1]);
    expect((await allPages(OPERATOR_KEY, `field=order_no&value=FIND-ME&account=${APP.appId}`, 50)).ids).toEqual([c, b, a]);
    expect((await allPages(SECOND_KEY, 'field=order_no&value=FIND-ME', 50)).ids).toEqual([c]);
    expect((await allPages(API_KEY, 'field=order_no&value=NOBODY', 50)).ids).toEqual([]);

    const refused = await get(API_KEY, '/notifications?field=amount&value=1.00');
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'invalid_request', message: expect.stringContaining('searchable fields: order_no') });
    for (const query of ['', 'field=order_no', `openid=${USER}&status=awaiting_interaction`, 'status=delivered', `openid=${USER}&limit=101`, `openid=${USER}&after=not-a-cursor`, `openid=${USER}&extra=1`]) {
      const res = await get(API_KEY, `/notifications?${query}`);
      expect([query, res.status, res.body.error?.code]).toEqual([query, 400, 'invalid_request']);
    }
  });

  it('limits keys to their accounts: an operator key of another account gets 403, and 404 for a notice of this one', async () => {
    const [id] = await send(API_KEY, [paid(5)]);
    const res = await get(ELSEWHERE_OPERATOR_KEY, `/notifications?openid=${USER}&account=${APP.appId}`);
    expect([res.status, res.body.error?.code]).toEqual([403, 'forbidden']);
    expect((await get(ELSEWHERE_OPERATOR_KEY, `/notifications/${id}`)).status).toBe(404);
  });

  it('lists the parked notices, the soonest expiry first, until they leave; the index keys expire with the notices', async () => {
    const parkedUsers = ['oPARK_user_0001', 'oPARK_user_0002', 'oPARK_user_0003'];
    const ids: string[] = [];
    for (const openid of parkedUsers) {
      // the user refuses the template and has never written: the text waits for them
      h.emulator.control.addUser({ openid });
      h.emulator.control.refuseTemplate(openid, TEMPLATES.order_paid.id);
      const key = openid === parkedUsers[1] ? SECOND_KEY : API_KEY;
      const [id] = await send(key, [paid(7, openid)]);
      await waitParked(id, key);
      ids.push(id);
    }
    expect(problems('NotificationPage', (await get(OPERATOR_KEY, `/notifications?status=awaiting_interaction&account=${APP.appId}`)).body)).toEqual([]);
    const own = await allPages(API_KEY, 'status=awaiting_interaction', 1);
    expect(own.ids).toEqual([ids[0], ids[2]]);
    expect(own.items.every((n) => n.status === 'awaiting_interaction')).toBe(true);
    const operator = await allPages(OPERATOR_KEY, `status=awaiting_interaction&account=${APP.appId}`, 50);
    expect(operator.ids).toEqual(ids);
    const until = operator.items.map((n) => Date.parse(n.parkedUntil));
    expect(until).toEqual([...until].sort((x, y) => x - y));
    expect(until[0]).toBeGreaterThan(Date.now() + h.config.window.parkSeconds * 1000 - 60_000);

    // each index key lives as long as the notices it lists, no longer
    const searchKeys = (await admin.keysContaining(`{${PREFIX}:${APP.appId}:`)).filter((k) => /\}:ix(:|-parked$)/.test(k));
    expect(searchKeys.some((k) => k.endsWith(':ix-parked'))).toBe(true);
    expect(searchKeys.some((k) => k.includes(':ix:f%3Aorder_no%3DFIND-ME'))).toBe(true);
    for (const key of searchKeys) {
      const ttl = await admin.ttl(key);
      expect([key, ttl > RETENTION_SECONDS - 3600 && ttl <= RETENTION_SECONDS]).toEqual([key, true]);
    }

    // the user writes: the oldest parked notice is the reply, the others go by customer service; the list empties
    await h.emulator.control.userSendsText(parkedUsers[0], 'hi');
    await h.waitFor(ids[0], 'fallback_sent');
    expect((await allPages(OPERATOR_KEY, `status=awaiting_interaction&account=${APP.appId}`, 50)).ids).toEqual(ids.slice(1));
  });

  async function waitParked(id: string, key: string): Promise<void> {
    for (let i = 0; i < 300; i++) {
      if ((await get(key, `/notifications/${id}`)).body.status === 'awaiting_interaction') return;
      await new Promise((r) => setTimeout(r, 15));
    }
    throw new Error(`${id} was not parked`);
  }

  it('shows the timeline of template → failed receipt → customer-service text: each WeChat call with its errcode, the template as the user saw it, the webhook deliveries', async () => {
    const endpoint = await call(API_KEY, 'POST', '/webhook-endpoints', { url: receiver.url });
    receiver.verifyWith(endpoint.body.secret as string);
    await h.emulator.control.userSendsText(OTHER_USER, 'hello'); // the customer-service window is open
    h.emulator.control.setReceiptOutcome({ openid: OTHER_USER, outcome: 'failed:user block' });
    const [id] = await send(API_KEY, [{ ...paid(8, OTHER_USER), data: { order_no: 'B-0008', amount: '12.50' } }]);
    await h.waitFor(id, 'fallback_sent');

    const view = (await get(API_KEY, `/notifications/${id}`)).body;
    expect(problems('Notification', view)).toEqual([]);
    expect(view.rendered).toBe(`${TEMPLATES.order_paid.title}\nOrder: B-0008\nAmount: 12.50`);
    const steps = (view.history as Json[]).map((e) => [e.status, e.call ?? null]);
    expect(steps).toEqual([
      ['queued', null],
      ['awaiting_receipt', { path: '/cgi-bin/message/template/send', errcode: 0, ms: expect.any(Number) }],
      ['fallback_pending', null],
      ['fallback_sent', { path: '/cgi-bin/message/custom/send', errcode: 0, ms: expect.any(Number) }],
    ]);
    expect((view.history as Json[])[2].detail).toMatch(/receipt for msgid \d+: failed:user block/);

    // a template refused by WeChat: its errcode is on the step it caused
    h.emulator.control.refuseTemplate(OTHER_USER, TEMPLATES.order_paid.id);
    const [refused] = await send(API_KEY, [paid(9, OTHER_USER)]);
    await h.waitFor(refused, 'fallback_sent');
    const refusedSteps = ((await get(API_KEY, `/notifications/${refused}`)).body.history as Json[]).filter((e) => e.call).map((e) => [e.status, e.call.errcode]);
    expect(refusedSteps).toEqual([
      ['fallback_pending', 43101],
      ['fallback_sent', 0],
    ]);
    h.emulator.control.refuseTemplate(OTHER_USER, TEMPLATES.order_paid.id, false);

    // its webhook deliveries: the one event, to this key's endpoint; another key finds no such notice
    await receiver.until((rs) => rs.some((r) => r.payload?.data.id === id), 5000, 'the fallback_sent event');
    const deliveries = await get(API_KEY, `/webhook-deliveries?notification=${id}`);
    expect(deliveries.status).toBe(200);
    expect(problems('WebhookDeliveryList', deliveries.body)).toEqual([]);
    expect(deliveries.body).toEqual({ deliveries: [expect.objectContaining({ subject: id, type: 'notification.fallback_sent', endpoint: endpoint.body.id })], next: null });
    expect((await get(SECOND_KEY, `/webhook-deliveries?notification=${id}`)).status).toBe(404);
  });

  it('pages every delivery of a key across its endpoints with after, newest first, without gaps or repeats', async () => {
    const second = await startReceiver(testSecret());
    try {
      const e2 = await call(API_KEY, 'POST', '/webhook-endpoints', { url: second.url });
      second.verifyWith(e2.body.secret as string);
      const ids = await send(API_KEY, [paid(10), paid(11), paid(12)]);
      for (const id of ids) await h.waitFor(id, 'delivered');
      await second.until((rs) => ids.every((id) => rs.some((r) => r.payload?.data.id === id)), 5000, "the three notices' deliveries to the second endpoint");
      const all: Json[] = [];
      let after: string | null = null;
      const sizes: number[] = [];
      do {
        const page = await get(API_KEY, `/webhook-deliveries?limit=2${after ? `&after=${after}` : ''}`);
        expect(page.status).toBe(200);
        all.push(...(page.body.deliveries as Json[]));
        sizes.push((page.body.deliveries as Json[]).length);
        after = page.body.next as string | null;
      } while (after !== null && sizes.length < 50);
      const everything = (await Promise.all(
        ((await call(API_KEY, 'GET', '/webhook-endpoints')).body.endpoints as Json[]).map(async (e) => (await get(API_KEY, `/webhook-deliveries?endpoint=${e.id as string}&limit=100`)).body.deliveries as Json[]),
      )).flat();
      const ids2 = all.map((d) => d.id as string);
      expect(new Set(ids2).size).toBe(ids2.length);
      // newest first: a delivery made after the first page was read (an earlier test's notice ending
      // late) comes before it and is rightly not in these pages; every one up to the first page's is
      const head = Date.parse(all[0].createdAt as string);
      const upToHead = everything.filter((d) => Date.parse(d.createdAt as string) <= head);
      expect([...ids2].sort()).toEqual(upToHead.map((d) => d.id as string).sort());
      expect(sizes.every((n) => n === 2 || n === sizes.at(-1))).toBe(true);
      const times = all.map((d) => Date.parse(d.createdAt));
      expect(times).toEqual([...times].sort((x, y) => y - x));
      expect(ids2.length).toBeGreaterThanOrEqual(3 + 3 + 1);
    } finally {
      await second.close();
    }
  });
});
