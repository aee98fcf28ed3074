import { openApiDocument } from '../../src/http/openapi';
import { merchant, platformWith, REFUSED, refusingSecret } from '../helpers/accounts';
import { StoreUnavailableError } from '../../src/store/unavailable';
import { API_KEY, APP, TEMPLATES, USER, sleep, startHarness, type Harness } from '../helpers/harness';
import { CheckedCalls, type Call } from '../helpers/openapi';
import { hookedStore } from '../helpers/store-proxy';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON answers read field by field

/**
 * Real answers of the running service (the emulator as WeChat, a real Redis) checked against the
 * document: every status must be listed for its route, and every body must match its schema.
 * The tests share one service and run in order (a merchant revoked in one is listed in the next).
 */

const [M1, M2] = ['wxa1a1a1a1a1a1a1a1', 'wxa2a2a2a2a2a2a2a2'];
/** A key limited to the env account, and one limited to an account that does not exist. */
const LIMITED_KEY = 'limited-key-0123456789';
const STRANGER_KEY = 'stranger-key-0123456789';
/** A key limited to the merchant that revokes (the main key lists only the accounts that may send). */
const REVOKED_KEY = 'revoked-key-0123456789';
const NOWHERE = 'wx9f9f9f9f9f9f9f9f';

const doc = openApiDocument() as Json;

describe('the service answers as its OpenAPI document says', () => {
  let h: Harness;
  let storeDown = false;
  const api = new CheckedCalls(doc, () => h.service.url, API_KEY);
  const { checked } = api;
  const call = (method: string, path: string, o?: Call) => api.call(method, path, o);
  const check = (method: string, template: string, path: string, o?: Call) => api.check(method, template, path, o);

  const paid = (extra: Json = {}) => ({ account: APP.appId, openid: USER, template: 'order_paid', data: { order_no: 'A1001', amount: { value: '39.80', color: '#173177' } }, ...extra });

  async function eventually<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
    for (let i = 0; i < 250; i++) {
      const v = await get();
      if (ok(v)) return v;
      await sleep(20);
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  const accounts = async () => (await call('GET', '/v1/accounts')).body.accounts as Json[];

  beforeAll(async () => {
    h = await startHarness({
      more: [REFUSED],
      config: refusingSecret,
      component: platformWith([merchant(M1, 1), merchant(M2, 2)]),
      extraApiKeys: [`${LIMITED_KEY}=${APP.appId}`, `${STRANGER_KEY}=${NOWHERE}`, `${REVOKED_KEY}=${M2}`],
      wrapStore: (store) => hookedStore(store, (_method, _args, go) => (storeDown ? Promise.reject(new StoreUnavailableError('the test stopped the store')) : go())),
    });
    for (const appid of [M1, M2]) await h.emulator.control.component.authorize(appid);
    await eventually('the merchants', accounts, (list) => list.length === 4);
  }, 30_000);
  afterAll(() => h.close());

  it('serves the document at GET /openapi.json without a key', async () => {
    const res = await fetch(`${h.service.url}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual(JSON.parse(JSON.stringify(doc)));
  });

  it('POST /v1/notifications: accepted, replayed, and each refusal', async () => {
    const accepted = await check('POST', '/v1/notifications', '/v1/notifications', { json: paid(), headers: { 'idempotency-key': 'order-A1001' } });
    expect(accepted.status).toBe(202);
    const replayed = await check('POST', '/v1/notifications', '/v1/notifications', { json: paid(), headers: { 'idempotency-key': 'order-A1001' } });
    expect([replayed.status, replayed.body.id, replayed.headers.get('idempotent-replayed')]).toEqual([202, accepted.body.id, 'true']);
    expect(doc.paths['/v1/notifications'].post.responses['202'].headers['Idempotent-Replayed'].schema.enum).toEqual(['true']);

    const refusals: Array<[number, string, Call]> = [
      [409, 'idempotency_conflict', { json: paid({ data: { order_no: 'B2' } }), headers: { 'idempotency-key': 'order-A1001' } }],
      [400, 'invalid_request', { json: paid({ data: { amount: { value: '1', color: 'red' } } }) }],
      [400, 'invalid_request', { json: paid(), headers: { 'idempotency-key': 'has space' } }],
      [400, 'invalid_request', { key: API_KEY, json: paid({ account: undefined }) }],
      [400, 'invalid_json', { raw: '{"openid":', type: 'application/json' }],
      [400, 'unknown_template', { json: paid({ template: 'no_such_template' }) }],
      [400, 'unknown_account', { json: paid({ account: 'wx0000000000000000' }) }],
      [403, 'forbidden', { key: LIMITED_KEY, json: paid({ account: M1 }) }],
      [401, 'unauthorized', { key: null, json: paid() }],
      [401, 'unauthorized', { key: 'not-a-key-of-this-service', json: paid() }],
      [415, 'unsupported_media_type', { raw: 'openid=x', type: 'application/x-www-form-urlencoded' }],
      [413, 'body_too_large', { json: paid({ fallbackText: 'x'.repeat(70_000) }) }],
    ];
    for (const [status, code, o] of refusals) {
      const a = await check('POST', '/v1/notifications', '/v1/notifications', o);
      expect([a.status, a.body.error?.code]).toEqual([status, code]);
    }
  });

  it('GET /v1/notifications/:id: delivered, parked, fallen back, failed, unknown', async () => {
    const get = (id: string) => check('GET', '/v1/notifications/{id}', `/v1/notifications/${id}`);
    const send = async (body: Json) => (await check('POST', '/v1/notifications', '/v1/notifications', { json: body })).body.id as string;

    const delivered = await send(paid({ account: APP.appId }));
    await h.waitFor(delivered, 'delivered');
    expect((await get(delivered)).body).toMatchObject({ status: 'delivered', channel: 'template', msgid: expect.stringMatching(/^\d+$/) });

    // The user refuses the template and has never written: the text is parked until they do.
    h.emulator.control.refuseTemplate(USER, TEMPLATES.seat_ready.id);
    const parked = await send({ account: APP.appId, openid: USER, template: 'seat_ready', data: { first: 'Hi', movie: 'M', seat: '7-8' } });
    await h.waitFor(parked, 'awaiting_interaction');
    expect((await get(parked)).body).toMatchObject({ status: 'awaiting_interaction', text: expect.any(String) });
    await h.emulator.control.userSendsText(USER, 'hi');
    await h.waitFor(parked, 'fallback_sent');
    expect((await get(parked)).body).toMatchObject({ status: 'fallback_sent', channel: expect.stringMatching(/^(customer_service|passive_reply)$/) });

    // The merchant revokes: its waiting notice fails, a new one is refused.
    h.emulator.control.account(M2).setReceiptOutcome({ openid: USER, outcome: 'none' });
    const waiting = await send(paid({ account: M2 }));
    await h.waitFor(waiting, 'awaiting_receipt');
    await h.emulator.control.component.unauthorize(M2);
    await h.waitFor(waiting, 'failed');
    expect((await get(waiting)).body).toMatchObject({ status: 'failed', reason: 'account_unauthorized' });
    const refused = await check('POST', '/v1/notifications', '/v1/notifications', { json: paid({ account: M2 }) });
    expect([refused.status, refused.body.error.code]).toEqual([409, 'account_unauthorized']);

    for (const id of ['n00000000000000000000000000.wx5a7b9c1d3e5f7a9b', 'nonsense']) {
      const unknown = await get(id);
      expect([unknown.status, unknown.body.error.code]).toEqual([404, 'not_found']);
    }
  });

  it('GET /v1/templates and GET /v1/accounts: each kind of account, and the refusals', async () => {
    const templates = await check('GET', '/v1/templates', `/v1/templates?account=${APP.appId}`);
    expect(templates.body.templates.map((t: Json) => t.name).sort()).toEqual(['order_paid', 'seat_ready']);
    expect((await check('GET', '/v1/templates', '/v1/templates', { key: LIMITED_KEY })).body.account).toBe(APP.appId);
    const refusals: Array<[number, string, string, string]> = [
      [400, 'invalid_request', '/v1/templates', API_KEY],
      [404, 'not_found', '/v1/templates?account=wx0000000000000000', API_KEY],
      [403, 'forbidden', `/v1/templates?account=${M1}`, LIMITED_KEY],
    ];
    for (const [status, code, path, key] of refusals) {
      const a = await check('GET', '/v1/templates', path, { key });
      expect([a.status, a.body.error.code]).toEqual([status, code]);
    }

    // The refused account shows what to fix once its token has been asked for.
    await call('POST', '/v1/notifications', { json: paid({ account: REFUSED.account.appId }) });
    await eventually('the refused token', accounts, (list) => list.some((a) => a.appid === REFUSED.account.appId && a.token.ok === false));
    const listed = await check('GET', '/v1/accounts', '/v1/accounts');
    expect(listed.body.accounts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ appid: APP.appId, kind: 'own', state: 'active', token: { ok: true } }),
        expect.objectContaining({ appid: REFUSED.account.appId, kind: 'own', token: expect.objectContaining({ ok: false, problem: expect.any(String) }) }),
        expect.objectContaining({ appid: M1, kind: 'authorizer', state: 'active' }),
      ]),
    );
    expect(listed.body.accounts.map((a: Json) => a.appid)).not.toContain(M2);
    const revoked = await check('GET', '/v1/accounts', '/v1/accounts', { key: REVOKED_KEY });
    expect(revoked.body.accounts).toEqual([expect.objectContaining({ appid: M2, kind: 'authorizer', state: 'unauthorized' })]);
    expect((await check('GET', '/v1/accounts', '/v1/accounts', { key: STRANGER_KEY })).body).toEqual({ accounts: [{ appid: NOWHERE, state: 'unknown' }] });
    expect((await check('GET', '/v1/accounts', '/v1/accounts', { key: null })).status).toBe(401);
  });

  it('the third-party platform routes: a link, a recovery, and a link without `next`', async () => {
    const link = await check('GET', '/v1/component/authorize-url', `/v1/component/authorize-url?next=${encodeURIComponent('https://crm.example/onboarded')}`);
    expect(link.status).toBe(200);
    const bad = await check('GET', '/v1/component/authorize-url', '/v1/component/authorize-url');
    expect([bad.status, bad.body.error.code]).toEqual([400, 'invalid_request']);
    const recovered = await check('POST', '/v1/component/recover', '/v1/component/recover');
    expect(recovered.status).toBe(200);
    expect(recovered.body.restored.length + recovered.body.unchanged).toBeGreaterThanOrEqual(1);
  });

  it('GET /v1/stats and /v1/stats/callbacks: the counts, and the refusals', async () => {
    const stats = await check('GET', '/v1/stats', '/v1/stats');
    expect([stats.status, stats.body.totals.accepted]).toEqual([200, expect.any(Number)]);
    expect((await check('GET', '/v1/stats', `/v1/stats?account=${APP.appId}&template=order_paid&bucket=day`)).status).toBe(200);
    const refusals: Array<[number, string, string, string]> = [
      [400, 'invalid_request', '/v1/stats?from=2030-01-01T00:00:00Z&to=2029-01-01T00:00:00Z', API_KEY],
      [404, 'not_found', '/v1/stats?account=wx0000000000000000', API_KEY],
      [403, 'forbidden', `/v1/stats?account=${M1}`, LIMITED_KEY],
    ];
    for (const [status, code, path, key] of refusals) {
      const a = await check('GET', '/v1/stats', path, { key });
      expect([a.status, a.body.error.code]).toEqual([status, code]);
    }
    const callbacks = await check('GET', '/v1/stats/callbacks', '/v1/stats/callbacks?bucket=minute&from=' + (Date.now() - 3_600_000));
    expect([callbacks.status, callbacks.body.series.length]).toEqual([200, expect.any(Number)]);
    const bad = await check('GET', '/v1/stats/callbacks', '/v1/stats/callbacks?to=soon');
    expect([bad.status, bad.body.error.code]).toEqual([400, 'invalid_request']);
  });

  it('with the store down, the routes answer 503 store_unavailable with Retry-After', async () => {
    storeDown = true;
    try {
      for (const [method, template, path, o] of [
        ['GET', '/v1/accounts', '/v1/accounts', {}],
        ['GET', '/v1/templates', `/v1/templates?account=${APP.appId}`, {}],
        ['POST', '/v1/notifications', '/v1/notifications', { json: paid({ account: APP.appId }) }],
      ] as Array<[string, string, string, Call]>) {
        const a = await check(method, template, path, o);
        expect([a.status, a.body.error.code, a.headers.get('retry-after')]).toEqual([503, 'store_unavailable', expect.stringMatching(/^\d+$/)]);
      }
    } finally {
      storeDown = false;
    }
  });

  it('(after the others) the success answer of every route the service serves was checked', () => {
    const served = ['POST /v1/notifications 202', 'GET /v1/notifications/{id} 200', 'GET /v1/templates 200', 'GET /v1/accounts 200', 'GET /v1/component/authorize-url 200', 'POST /v1/component/recover 200', 'GET /v1/stats 200', 'GET /v1/stats/callbacks 200'];
    expect(served.filter((s) => !checked.has(s))).toEqual([]);
  });
});
