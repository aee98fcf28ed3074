import { openApiDocument } from '../../src/http/openapi';
import { API_KEY, APP, TEMPLATES, USER, sleep, startHarness, type Harness } from '../helpers/harness';
import { CheckedCalls, DocumentSchemas, type Call } from '../helpers/openapi';
import { paid } from '../helpers/paid-notice';
import { startReceiver, testSecret, type Received, type Receiver } from '../outbound/receiver';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON answers read field by field

/**
 * Real answers of the webhook routes and of the batch route, and real webhook requests, checked
 * against the OpenAPI document (paths and the `webhooks` section). The tests share one service and
 * run in order.
 */

const doc = openApiDocument() as Json;
const schemas = new DocumentSchemas(doc);
/** A key limited to the test account, and one that fills its quota of endpoints. */
const LIMITED_KEY = 'limited-hooks-key-0123456789';
const BUSY_KEY = 'busy-hooks-key-0123456789';
const OTHER_APP = 'wx0000000000000000';

/** The problems of a request a receiver got against its event in the document (it must have verified). */
const eventProblems = (r: Received): string[] => (r.payload ? schemas.webhookProblems(r.type, r.body, r.headers) : [`webhook-id ${r.id}: not verified`]);

describe('the webhook and batch routes answer as the OpenAPI document says; webhook requests match its webhooks section', () => {
  let h: Harness;
  let receiver: Receiver;
  let fromConfig: Receiver;
  const api = new CheckedCalls(doc, () => h.service.url, API_KEY);
  const check = (method: string, template: string, path: string, o?: Call) => api.check(method, template, path, o);
  let endpoint: Json;

  beforeAll(async () => {
    receiver = await startReceiver(testSecret());
    fromConfig = await startReceiver(testSecret());
    h = await startHarness({
      extraApiKeys: [`${LIMITED_KEY}=${APP.appId}`, BUSY_KEY],
      config: (c) => ({ ...c, webhooks: { allowPrivate: true, endpoints: [{ url: fromConfig.url, secret: fromConfig.secret }] } }),
    });
  });
  afterAll(async () => {
    await h.close();
    await receiver.close();
    await fromConfig.close();
  });

  it('POST, GET /v1/webhook-endpoints and GET one: registered, listed, read, and each refusal', async () => {
    const created = await check('POST', '/v1/webhook-endpoints', '/v1/webhook-endpoints', { json: { url: receiver.url, description: 'openapi test' } });
    expect(created.status).toBe(201);
    endpoint = created.body;
    receiver.verifyWith(endpoint.secret as string);

    const body = { url: `${receiver.url}/other` };
    const refusals: Array<[number, string, Call]> = [
      [400, 'invalid_request', { json: { url: 'not a url' } }],
      [400, 'invalid_request', { json: { ...body, events: ['notification.lost'] } }],
      [400, 'invalid_request', { json: { ...body, colour: 'red' } }],
      [400, 'invalid_json', { raw: '{"url":', type: 'application/json' }],
      [400, 'unknown_account', { json: { ...body, accounts: [OTHER_APP] } }],
      [403, 'forbidden', { key: LIMITED_KEY, json: { ...body, accounts: [OTHER_APP] } }],
      [401, 'unauthorized', { key: null, json: body }],
      [415, 'unsupported_media_type', { raw: `url=${receiver.url}`, type: 'application/x-www-form-urlencoded' }],
      [413, 'body_too_large', { json: { ...body, description: 'x'.repeat(70_000) } }],
    ];
    for (const [status, code, o] of refusals) {
      const a = await check('POST', '/v1/webhook-endpoints', '/v1/webhook-endpoints', o);
      expect([a.status, a.body.error?.code]).toEqual([status, code]);
    }
    // a key may register 50: the 51st is refused, and deleting frees the room
    const busy: string[] = [];
    for (let i = 0; i < 50; i++) busy.push((await api.call('POST', '/v1/webhook-endpoints', { key: BUSY_KEY, json: { url: `${receiver.url}/busy${i}` } })).body.id as string);
    const tooMany = await check('POST', '/v1/webhook-endpoints', '/v1/webhook-endpoints', { key: BUSY_KEY, json: { url: `${receiver.url}/busy50` } });
    expect([tooMany.status, tooMany.body.error.code]).toEqual([409, 'too_many_endpoints']);
    for (const id of busy) expect((await check('DELETE', '/v1/webhook-endpoints/{id}', `/v1/webhook-endpoints/${id}`, { key: BUSY_KEY })).status).toBe(204);

    const listed = await check('GET', '/v1/webhook-endpoints', '/v1/webhook-endpoints');
    expect(listed.body.endpoints.map((e: Json) => e.url).sort()).toEqual([fromConfig.url, receiver.url].sort());
    expect((await check('GET', '/v1/webhook-endpoints', '/v1/webhook-endpoints', { key: null })).status).toBe(401);
    expect((await check('GET', '/v1/webhook-endpoints/{id}', `/v1/webhook-endpoints/${endpoint.id}`)).body).toMatchObject({ id: endpoint.id, url: receiver.url });
    for (const [key, status] of [[API_KEY, 404], [BUSY_KEY, 404], [null, 401]] as const) {
      const id = key === BUSY_KEY ? endpoint.id : 'ep_doesnotexist';
      expect((await check('GET', '/v1/webhook-endpoints/{id}', `/v1/webhook-endpoints/${id}`, { key })).status).toBe(status);
    }
  });

  it('a delivered event is a request its event schema describes; the deliveries routes answer as documented', async () => {
    const id = (await h.enqueue(paid(1))).body.id as string;
    await h.waitFor(id, 'delivered');
    await receiver.until((rs) => rs.some((r) => r.payload?.data.id === id), 5000, 'the delivered event');
    const [event] = receiver.accepted().filter((r) => r.payload?.data.id === id);
    expect(event.type).toBe('notification.delivered');
    expect(eventProblems(event)).toEqual([]);
    await fromConfig.until((rs) => rs.length > 0, 5000, 'the config endpoint’s copy');

    // the delivery, once its answer is recorded
    let deliveries: Json[] = [];
    for (let i = 0; i < 100 && !deliveries.some((d) => d.status === 'succeeded'); i++, await sleep(20)) {
      deliveries = (await check('GET', '/v1/webhook-deliveries', `/v1/webhook-deliveries?endpoint=${endpoint.id}&status=succeeded`)).body.deliveries as Json[];
    }
    expect(deliveries).toEqual([expect.objectContaining({ endpoint: endpoint.id, type: 'notification.delivered', status: 'succeeded', attempts: 1 })]);
    const all = await check('GET', '/v1/webhook-deliveries', '/v1/webhook-deliveries');
    expect(all.body.deliveries.length).toBe(2);
    // without an endpoint the list pages over all of the key's endpoints, as with one
    const rest = await check('GET', '/v1/webhook-deliveries', `/v1/webhook-deliveries?after=${all.body.deliveries[0].id}`);
    expect(rest.body.deliveries).toEqual([all.body.deliveries[1]]);
    for (const query of ['status=lost', 'after=not-a-delivery', 'limit=0', 'colour=red']) {
      const a = await check('GET', '/v1/webhook-deliveries', `/v1/webhook-deliveries?${query}`);
      expect([query, a.status, a.body.error.code]).toEqual([query, 400, 'invalid_request']);
    }
    expect((await check('GET', '/v1/webhook-deliveries', '/v1/webhook-deliveries', { key: null })).status).toBe(401);

    const one = await check('GET', '/v1/webhook-deliveries/{id}', `/v1/webhook-deliveries/${deliveries[0].id}`);
    expect(one.body).toMatchObject({ id: deliveries[0].id, payload: JSON.parse(event.body) });
    const unknown = `evt_${'0'.repeat(28)}.${endpoint.id}`;
    for (const [path, key, status] of [[deliveries[0].id, BUSY_KEY, 404], [unknown, API_KEY, 404], ['nonsense', API_KEY, 404], [deliveries[0].id, null, 401]] as const) {
      expect((await check('GET', '/v1/webhook-deliveries/{id}', `/v1/webhook-deliveries/${path}`, { key })).status).toBe(status);
    }

    // sent once more by hand, with the same webhook-id
    const retried = await check('POST', '/v1/webhook-deliveries/{id}/retry', `/v1/webhook-deliveries/${deliveries[0].id}/retry`);
    expect(retried.status).toBe(202);
    await receiver.until((rs) => rs.filter((r) => r.id === event.id).length === 2, 5000, 'the resend');
    expect(eventProblems(receiver.requests.filter((r) => r.id === event.id)[1])).toEqual([]);
    for (const [path, key, status] of [[unknown, API_KEY, 404], [deliveries[0].id, null, 401]] as const) {
      expect((await check('POST', '/v1/webhook-deliveries/{id}/retry', `/v1/webhook-deliveries/${path}/retry`, { key })).status).toBe(status);
    }

    const since = new Date(Date.now() - 60_000).toISOString();
    const recovered = await check('POST', '/v1/webhook-endpoints/{id}/recover', `/v1/webhook-endpoints/${endpoint.id}/recover?since=${since}`);
    expect(recovered.status).toBe(202);
    for (const [path, status] of [[`${endpoint.id}/recover`, 400], [`${endpoint.id}/recover?since=yesterday`, 400], [`ep_doesnotexist/recover?since=${since}`, 404]] as const) {
      expect((await check('POST', '/v1/webhook-endpoints/{id}/recover', `/v1/webhook-endpoints/${path}`)).status).toBe(status);
    }
    expect((await check('POST', '/v1/webhook-endpoints/{id}/recover', `/v1/webhook-endpoints/${endpoint.id}/recover?since=${since}`, { key: null })).status).toBe(401);
  });

  it('a later event of a notice waits for the earlier one: its retry answers 409; each event is a request its schema describes', async () => {
    // the receiver refuses the parking event: the fallback_sent event waits behind it
    receiver.respond(({ type }) => (type === 'notification.awaiting_interaction' ? 500 : 204));
    h.emulator.control.refuseTemplate(USER, TEMPLATES.seat_ready.id);
    const id = (await h.enqueue({ openid: USER, template: 'seat_ready', data: { first: 'Hi', movie: 'M', seat: '7-8' } })).body.id as string;
    await h.waitFor(id, 'awaiting_interaction');
    await h.emulator.control.userSendsText(USER, 'hi');
    await h.waitFor(id, 'fallback_sent');
    let waiting: Json | undefined;
    for (let i = 0; i < 100 && !waiting; i++, await sleep(20)) {
      const pending = (await api.call('GET', `/v1/webhook-deliveries?endpoint=${endpoint.id}&status=pending`)).body.deliveries as Json[];
      waiting = pending.find((d) => d.type === 'notification.fallback_sent');
    }
    expect(waiting).toBeDefined();
    const refused = await check('POST', '/v1/webhook-deliveries/{id}/retry', `/v1/webhook-deliveries/${waiting?.id}/retry`);
    expect([refused.status, refused.body.error.code]).toEqual([409, 'delivery_waiting']);

    // the parking event is retried by hand and accepted; the other follows it
    receiver.respond(() => 204);
    const parked = ((await check('GET', '/v1/webhook-deliveries', `/v1/webhook-deliveries?endpoint=${endpoint.id}&status=failed`)).body.deliveries as Json[])[0];
    expect(parked.type).toBe('notification.awaiting_interaction');
    expect((await check('POST', '/v1/webhook-deliveries/{id}/retry', `/v1/webhook-deliveries/${parked.id}/retry`)).status).toBe(202);
    const ofNotice = () => receiver.accepted().filter((r) => r.payload?.data.id === id);
    await receiver.until(() => ofNotice().length === 2, 5000, 'both events of the parked notice');
    expect(ofNotice().map((r) => r.type)).toEqual(['notification.awaiting_interaction', 'notification.fallback_sent']);
    // and everything both receivers got matches the webhooks section
    expect([...receiver.requests, ...fromConfig.requests].flatMap((r) => eventProblems(r).map((p) => `${r.type}: ${p}`))).toEqual([]);
  });

  it('DELETE /v1/webhook-endpoints/{id}: an endpoint of the config is refused, one of the API deleted, then unknown', async () => {
    const config = ((await api.call('GET', '/v1/webhook-endpoints')).body.endpoints as Json[]).find((e) => e.url === fromConfig.url);
    const refused = await check('DELETE', '/v1/webhook-endpoints/{id}', `/v1/webhook-endpoints/${config?.id}`);
    expect([refused.status, refused.body.error.code]).toEqual([409, 'config_endpoint']);
    expect((await check('DELETE', '/v1/webhook-endpoints/{id}', `/v1/webhook-endpoints/${endpoint.id}`, { key: null })).status).toBe(401);
    expect((await check('DELETE', '/v1/webhook-endpoints/{id}', `/v1/webhook-endpoints/${endpoint.id}`)).status).toBe(204);
    expect((await check('DELETE', '/v1/webhook-endpoints/{id}', `/v1/webhook-endpoints/${endpoint.id}`)).status).toBe(404);
  });

  it('POST /v1/notifications/batch: 207 with accepted, refused and conflicting items; the refusals of the whole call', async () => {
    const item = (order: string, more: Json = {}) => ({ openid: USER, template: 'order_paid', data: { order_no: order, amount: '9.90' }, ...more });
    const first = await h.enqueue(item('K1'), { 'idempotency-key': 'openapi-k1' });
    expect(first.status).toBe(202);
    const mixed = await check('POST', '/v1/notifications/batch', '/v1/notifications/batch', {
      json: {
        notifications: [
          item('B1'),
          { ...item('B2'), openid: '' },
          item('K1-other', { idempotencyKey: 'openapi-k1' }),
          item('K1', { idempotencyKey: 'openapi-k1' }),
          item('B3', { template: 'no_such_template' }),
          item('B4', { account: OTHER_APP }),
        ],
      },
    });
    expect(mixed.status).toBe(207);
    expect(mixed.body.results.map((r: Json) => [r.status, r.error?.code ?? r.id])).toEqual([
      [202, expect.any(String)],
      [400, 'invalid_request'],
      [409, 'idempotency_conflict'],
      [202, first.body.id],
      [400, 'unknown_template'],
      [400, 'unknown_account'],
    ]);
    const limited = await check('POST', '/v1/notifications/batch', '/v1/notifications/batch', { key: LIMITED_KEY, json: { notifications: [item('L1', { account: APP.appId }), item('L2', { account: OTHER_APP })] } });
    expect(limited.body.results.map((r: Json) => r.status)).toEqual([202, 403]);

    const refusals: Array<[number, string, Call]> = [
      [400, 'invalid_request', { json: { notifications: [] } }],
      [400, 'invalid_request', { json: [item('X')] }],
      [400, 'invalid_request', { json: { notifications: [item('X')] }, headers: { 'idempotency-key': 'not-here' } }],
      [400, 'invalid_json', { raw: '{"notifications":[', type: 'application/json' }],
      [401, 'unauthorized', { key: null, json: { notifications: [item('X')] } }],
      [415, 'unsupported_media_type', { raw: 'notifications=x', type: 'text/plain' }],
      [413, 'body_too_large', { json: { notifications: [item('X', { fallbackText: 'x'.repeat(4.5 * 1024 * 1024) })] } }],
    ];
    for (const [status, code, o] of refusals) {
      const a = await check('POST', '/v1/notifications/batch', '/v1/notifications/batch', o);
      expect([a.status, a.body.error?.code]).toEqual([status, code]);
    }
  });

  it('(after the others) every documented answer of these routes but the server errors was checked', () => {
    const documented = Object.entries(doc.paths as Json)
      .filter(([path]) => path.startsWith('/v1/webhook-') || path === '/v1/notifications/batch')
      .flatMap(([path, item]) => Object.entries(item as Json).flatMap(([method, op]) => Object.keys((op as Json).responses).map((status) => `${method.toUpperCase()} ${path} ${status}`)))
      .filter((answer) => !/ (500|503)$/.test(answer));
    expect(documented.filter((answer) => !api.checked.has(answer))).toEqual([]);
  });
});
