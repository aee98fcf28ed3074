import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { DEFAULT_SHARDS_PER_ACCOUNT as SHARDS } from '../../src/store/record-ids';
import { RedisConnection } from '../../src/store/redis-connection';
import type { LuaScript } from '../../src/store/scripts/lua-script';
import { StoreUnavailableError } from '../../src/store/unavailable';
import { API_KEY, APP, USER, startHarness, type Harness } from '../helpers/harness';
import { countByOrder, storedNotices, testRedisClient, until, type TestRedisClient } from '../helpers/stored-notices';

/** A key limited to another account than the test account. */
const OTHER_ACCOUNT = 'wx0123456789abcdef';
const LIMITED_KEY = 'limited-batch-key-0123456789';
/** How late scriptsRunDuring sends a script it holds. */
const HOLD_MS = 300;

type Result = { status: number; id?: string; error?: { code: string; message: string; details?: unknown } };

const notice = (order: string, more: Record<string, unknown> = {}) => ({ openid: USER, template: 'order_paid', data: { order_no: order, amount: '9.90' }, ...more });

async function postBatch(h: Harness, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: { results?: Result[]; error?: { code: string } }; headers: Headers }> {
  const res = await fetch(`${h.service.url}/v1/notifications/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { results?: Result[] }, headers: res.headers };
}

/** The status answered to a batch that announces `length` bytes and sends none of them (it is refused before reading). */
function declaredLength(h: Harness, length: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${h.service.url}/v1/notifications/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(length), authorization: `Bearer ${API_KEY}` },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.flushHeaders();
  });
}

/**
 * `work`'s result and the names of the scripts the service ran meanwhile; the work loop stays still
 * meanwhile, so every script counted is the intake's. With `holdFirst`, the first script of that
 * name is sent `HOLD_MS` late (`held` says it was), as from a store that is slow for a moment.
 */
async function scriptsRunDuring<T>(h: Harness, work: () => Promise<T>, holdFirst?: string): Promise<{ result: T; scripts: string[]; held: boolean }> {
  const scripts: string[] = [];
  let held = false;
  const run = RedisConnection.prototype.run;
  const spy = jest.spyOn(RedisConnection.prototype, 'run').mockImplementation(function (this: RedisConnection, script: LuaScript, keys: string[], args: string[]) {
    scripts.push(script.name);
    if (script.name !== holdFirst || held) return run.call(this, script, keys, args);
    held = true;
    return new Promise((resolve) => setTimeout(resolve, HOLD_MS)).then(() => run.call(this, script, keys, args));
  });
  await h.service.loop.stop();
  try {
    const result = await work();
    return { result, scripts, held };
  } finally {
    spy.mockRestore();
    h.service.loop.start();
  }
}

describe('POST /v1/notifications/batch', () => {
  let h: Harness;
  let redis: TestRedisClient;
  const prefix = `tb${randomBytes(4).toString('hex')}`;
  beforeAll(async () => {
    redis = await testRedisClient();
    h = await startHarness({ redisPrefix: prefix, extraApiKeys: [`${LIMITED_KEY}=${OTHER_ACCOUNT}`] });
  });
  afterAll(async () => {
    await h.close();
    await redis.close();
  });

  it('answers every item in the order sent, each as a single call would, and stores only the good ones', async () => {
    const first = await h.enqueue(notice('B-K0'), { 'idempotency-key': 'single-call-key' });
    expect(first.status).toBe(202);
    const items = [
      notice('B-1'),
      { ...notice('B-2'), openid: 'x', colour: 'red' },
      notice('B-3', { template: 'no_such_template' }),
      42,
      notice('B-5', { idempotencyKey: 'batch-key-1' }),
      notice('B-5', { idempotencyKey: 'batch-key-1' }), // the same again in the same call: one record
      notice('B-7', { idempotencyKey: 'batch-key-1' }), // the key with another body
      notice('B-8', { idempotencyKey: 'has a space' }),
      notice('B-9', { account: 'wx1111111111111111' }),
      notice('B-K0', { idempotencyKey: 'single-call-key' }), // the key of the single call: the same key space
      notice('B-11'),
    ];
    const res = await postBatch(h, { notifications: items });
    expect(res.status).toBe(207);
    const results = res.body.results!;
    expect(results.map((r) => r.status)).toEqual([202, 400, 400, 400, 202, 202, 409, 400, 400, 202, 202]);
    expect(results[1].error).toMatchObject({ code: 'invalid_request' });
    expect((results[1].error!.details as Array<{ field: string }>).map((d) => d.field)).toEqual(expect.arrayContaining(['openid']));
    expect(JSON.stringify(results[1].error)).toMatch(/colour/);
    expect(results[2].error).toMatchObject({ code: 'unknown_template', details: [{ field: 'template' }] });
    expect(results[3].error).toMatchObject({ code: 'invalid_request' });
    expect(results[5].id).toBe(results[4].id);
    expect(results[6].error).toMatchObject({ code: 'idempotency_conflict', details: { id: results[4].id } });
    expect(results[7].error).toMatchObject({ code: 'invalid_request', details: [{ field: 'idempotencyKey' }] });
    expect(results[8].error).toMatchObject({ code: 'unknown_account' });
    expect(results[9].id).toBe(first.body.id);
    // an accepted item is exactly what was sent at its place: read back through the API
    for (const [i, order] of [[0, 'B-1'], [4, 'B-5'], [10, 'B-11']] as const) {
      const n = await h.get(results[i].id!);
      expect(n).toMatchObject({ id: results[i].id, openid: USER, status: expect.any(String) });
      expect((await storedNotices(redis, prefix)).find((s) => s.id === results[i].id)?.data.order_no.value).toBe(order);
    }
    expect(countByOrder(await storedNotices(redis, prefix))).toEqual({ 'B-K0': 1, 'B-1': 1, 'B-5': 1, 'B-11': 1 });
    // the work loop was told: they are sent
    await h.waitFor(results[10].id!, 'delivered');
  });

  it('refuses an account the key may not use with 403, item by item', async () => {
    const res = await postBatch(h, { notifications: [notice('L-1', { account: OTHER_ACCOUNT }), notice('L-2', { account: APP.appId })] }, { authorization: `Bearer ${LIMITED_KEY}` });
    expect(res.status).toBe(207);
    expect(res.body.results!.map((r) => [r.status, r.error?.code])).toEqual([
      [400, 'unknown_account'],
      [403, 'forbidden'],
    ]);
  });

  it('stores single calls that arrive together in one store step per shard, each answered as alone; a key repeated among them is replayed', async () => {
    // the first store call is slow for a moment, so the calls sent at once arrive while it is out
    // (on a fast store, each call may be stored before the next one comes)
    const { result: answers, scripts, held } = await scriptsRunDuring(
      h,
      () =>
        Promise.all([
          ...Array.from({ length: 40 }, (_, i) => h.enqueue(notice(`S-${i}`, { openid: `oUSER_single_${i % 20}` }))),
          h.enqueue(notice('S-key'), { 'idempotency-key': 'together-key' }),
          h.enqueue(notice('S-key'), { 'idempotency-key': 'together-key' }),
        ]),
      'createRecords',
    );
    expect(held).toBe(true);
    expect(answers.map((a) => a.status)).toEqual(Array(42).fill(202));
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(41); // the repeated key answers its first id
    expect(answers[40].body.id).toBe(answers[41].body.id);
    // far fewer record scripts than calls: the calls that came in the same turns went together
    const created = scripts.filter((name) => name === 'createRecords').length;
    expect(created).toBeGreaterThan(0);
    expect(created).toBeLessThan(42);
    const stored = (await storedNotices(redis, prefix)).filter((n) => n.data.order_no.value.startsWith('S-'));
    expect(stored).toHaveLength(41);
    // settled before the next test counts its own store calls (no status that is claimed again soon)
    const ids = [...new Set(answers.map((a) => a.body.id as string))];
    const busy = new Set(['queued', 'awaiting_receipt', 'fallback_pending']);
    await until(async () => (await Promise.all(ids.map((id) => h.get(id)))).every((n) => !busy.has(n.status as string)), 'the notices settled');
  });

  it('accepts 1,000 notices in one call (a body well over the 64 KB of other calls), each stored once, in one store step per shard', async () => {
    // 50 users: the notices spread over every shard of the account
    const items = Array.from({ length: 1000 }, (_, i) => notice(`M-${i}`, { openid: `oUSER_many_${i % 50}`, fallbackText: `Your order M-${i} is paid: 9.90 (batch test)` }));
    const body = JSON.stringify({ notifications: items });
    expect(Buffer.byteLength(body)).toBeGreaterThan(128 * 1024);
    const { result: res, scripts } = await scriptsRunDuring(h, () => postBatch(h, body));
    expect(res.status).toBe(207);
    // one script per shard writes its records (8 shards per account); the due index hears of them in
    // a few calls (the hints of one turn of the event loop go together: at most one per shard, plus
    // one for anything else of this instance's that hinted in the same turns), never one per record
    expect(scripts.filter((name) => name === 'createRecords')).toHaveLength(SHARDS);
    expect(scripts.filter((name) => name === 'hintDue').length).toBeLessThanOrEqual(SHARDS + 2);
    const results = res.body.results!;
    expect(results).toHaveLength(1000);
    expect(results.filter((r) => r.status === 202)).toHaveLength(1000);
    expect(new Set(results.map((r) => r.id)).size).toBe(1000);
    const stored = (await storedNotices(redis, prefix)).filter((n) => n.data.order_no.value.startsWith('M-'));
    expect(stored).toHaveLength(1000);
    const byId = new Map(stored.map((n) => [n.id, n.data.order_no.value]));
    expect(results.map((r) => byId.get(r.id!))).toEqual(items.map((n) => n.data.order_no));
  });

  it('refuses the call as a whole when its envelope is wrong or too big; other calls keep the 64 KB limit', async () => {
    const tooMany = await postBatch(h, { notifications: Array.from({ length: 1001 }, (_, i) => notice(`X-${i}`)) });
    expect(tooMany.status).toBe(400);
    expect((await postBatch(h, { notifications: [] })).status).toBe(400);
    expect((await postBatch(h, { notifications: notice('X') })).status).toBe(400);
    expect((await postBatch(h, [notice('X')])).status).toBe(400);
    const keyed = await postBatch(h, { notifications: [notice('X-K')] }, { 'idempotency-key': 'whole-batch' });
    expect(keyed.status).toBe(400);
    expect((await postBatch(h, '{"notifications": [')).body.error).toMatchObject({ code: 'invalid_json' });
    expect(await declaredLength(h, 4 * 1024 * 1024 + 1)).toBe(413);
    const bigSingle = await h.enqueue(notice('X', { fallbackText: 'x'.repeat(100 * 1024) }));
    expect(bigSingle.status).toBe(413);
    const unauthenticated = await postBatch(h, { notifications: [notice('X')] }, { authorization: 'Bearer nope-nope-nope-nope' });
    expect(unauthenticated.status).toBe(401);
    expect(countByOrder(await storedNotices(redis, prefix))).not.toHaveProperty('X');
    expect(countByOrder(await storedNotices(redis, prefix))).not.toHaveProperty('X-K');
  });
});

describe('POST /v1/notifications/batch while the store goes away', () => {
  afterEach(() => jest.restoreAllMocks());

  it('answers 202 for the items stored and 503 for the rest; 503 for the whole call when none was stored', async () => {
    const prefix = `tb${randomBytes(4).toString('hex')}`;
    const h = await startHarness({ redisPrefix: prefix });
    const redis = await testRedisClient();
    // the store writes the records of the first two shards of the call, then is gone
    const run = RedisConnection.prototype.run;
    let passed = 0;
    let refusedCalls = 0;
    jest.spyOn(RedisConnection.prototype, 'run').mockImplementation(async function (this: RedisConnection, script: LuaScript, keys: string[], args: string[]) {
      if (script.name !== 'createRecords') return run.call(this, script, keys, args);
      if (passed < 2) {
        passed += 1;
        return run.call(this, script, keys, args);
      }
      refusedCalls += 1;
      throw new StoreUnavailableError('Redis failed createRecords: the test took it away');
    });
    try {
      // 200 notices of 40 users: spread over every shard of the account
      const items = Array.from({ length: 200 }, (_, i) => notice(`S-${i}`, { openid: `oUSER_outage_${i % 40}` }));
      const res = await postBatch(h, { notifications: items });
      expect(passed).toBe(2);
      expect(refusedCalls).toBeGreaterThan(0);
      expect(res.status).toBe(207);
      const results = res.body.results!;
      const accepted = results.filter((r) => r.status === 202);
      expect(accepted.length).toBeGreaterThan(0);
      expect(results.filter((r) => r.status === 503)).toHaveLength(200 - accepted.length);
      expect(results.find((r) => r.status === 503)?.error?.code).toBe('store_unavailable');
      // exactly the items answered 202 are stored, and they are whole shards: the users of an accepted item have every item accepted
      const stored = await storedNotices(redis, prefix);
      expect(new Set(stored.map((n) => n.id))).toEqual(new Set(accepted.map((r) => r.id)));
      const acceptedUsers = new Set(results.flatMap((r, i) => (r.status === 202 ? [items[i].openid] : [])));
      expect(results.filter((_, i) => acceptedUsers.has(items[i].openid)).every((r) => r.status === 202)).toBe(true);

      const none = await postBatch(h, { notifications: [notice('S-x'), notice('S-y')] });
      expect(none.status).toBe(503);
      expect(none.body.error).toMatchObject({ code: 'store_unavailable' });
      expect(none.headers.get('retry-after')).toBe('2');
    } finally {
      await h.close();
      await redis.close();
    }
  });
});
