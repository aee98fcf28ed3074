import { randomBytes } from 'node:crypto';
import type { Config } from '../../src/config/schema';
import { RedisServer } from '../../src/dev/redis-server';
import { STREAM_GROUP, StreamIntake } from '../../src/delivery/stream-intake';
import { NotificationIntake } from '../../src/http/notification-intake';
import { startStack } from '../../src/stack';
import type { StreamGroup } from '../../src/store/store';
import { API_KEY, APP, TEMPLATES, USER, startHarness, type Harness } from '../helpers/harness';
import { capturedLogger } from '../helpers/logs';
import { countByOrder, storedNotices, testRedisClient, until, type TestRedisClient } from '../helpers/stored-notices';

const notice = (order: string, more: Record<string, unknown> = {}) => ({ openid: USER, template: 'order_paid', data: { order_no: order, amount: '9.90' }, ...more });

/** What a business system does: XADD <stream> * notification <json> [idempotencyKey <key>]. */
const add = (redis: TestRedisClient, stream: string, body: unknown, idempotencyKey?: string) =>
  redis.xAdd(stream, '*', { notification: typeof body === 'string' ? body : JSON.stringify(body), ...(idempotencyKey === undefined ? {} : { idempotencyKey }) });

/** The group has read every entry and acknowledged all it read. */
async function allAcknowledged(redis: TestRedisClient, stream: string): Promise<boolean> {
  const groups = (await redis.xInfoGroups(stream).catch(() => [])) as Array<Record<string, unknown>>;
  const group = groups.find((g) => g.name === STREAM_GROUP);
  return group !== undefined && group.pending === 0 && group.lag === 0;
}

/** The service's config with the default stream (`<prefix>:intake`, the store's key prefix) and a short take-over time. */
const quickTakeOver = (c: Config): Config => ({ ...c, intake: { stream: null, claimIdleMs: 1000 } });

const freshPrefix = () => `ts${randomBytes(4).toString('hex')}`;

describe('the Redis Stream intake', () => {
  let redis: TestRedisClient;
  let h: Harness | undefined;
  beforeAll(async () => {
    redis = await testRedisClient();
  });
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });
  afterAll(async () => {
    await redis.close();
  });

  it('stores, once each, the entries added before wxreach ever started, and those added while it was stopped', async () => {
    const prefix = freshPrefix();
    const stream = `${prefix}:intake`;
    for (let i = 0; i < 20; i++) await add(redis, stream, notice(`E-${i}`));
    for (let i = 20; i < 30; i++) await add(redis, stream, notice(`E-${i}`, { account: APP.appId }), `order-E-${i}`);
    // the business system sent two of them twice (same key, same notification)
    await add(redis, stream, notice('E-20', { account: APP.appId }), 'order-E-20');
    await add(redis, stream, notice('E-21', { account: APP.appId }), 'order-E-21');

    h = await startHarness({ redisPrefix: prefix, config: quickTakeOver });
    await until(() => allAcknowledged(redis, stream), 'every entry stored and acknowledged');
    const stored = await storedNotices(redis, prefix);
    expect(countByOrder(stored)).toEqual(Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`E-${i}`, 1])));
    expect(new Set(stored.map((n) => n.client))).toEqual(new Set(['stream']));
    // read back through the API by any key that may use the account; they are sent like any other
    const one = stored.find((n) => n.data.order_no.value === 'E-7')!;
    expect(await h.get(one.id)).toMatchObject({ id: one.id, account: APP.appId, openid: USER, template: 'order_paid' });
    await h.waitFor(one.id, 'delivered');
    await h.close();
    h = undefined;

    // wxreach stopped: the business goes on adding
    await add(redis, stream, notice('E-30'));
    await add(redis, stream, notice('E-31'), 'order-E-31');
    h = await startHarness({ redisPrefix: prefix, config: quickTakeOver });
    await until(() => allAcknowledged(redis, stream), 'the new entries stored and acknowledged');
    const after = countByOrder(await storedNotices(redis, prefix));
    expect(after).toEqual({ ...Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`E-${i}`, 1])), 'E-30': 1, 'E-31': 1 });
    expect(await redis.xLen(`${stream}:dead`)).toBe(0);
  });

  it('loses and doubles nothing when an instance dies between reading and acknowledging: another takes its entries over', async () => {
    const prefix = freshPrefix();
    const stream = `${prefix}:intake`;
    for (let i = 0; i < 40; i++) await add(redis, stream, notice(`K-${i}`), i % 4 === 0 ? `order-K-${i}` : undefined);

    // 1. An instance read 10 entries and died before storing any of them.
    await redis.xGroupCreate(stream, STREAM_GROUP, '0', { MKSTREAM: true });
    const readByTheDead = await redis.xReadGroup(STREAM_GROUP, 'died-before-storing', { key: stream, id: '>' }, { COUNT: 10 });
    expect(readByTheDead?.[0].messages).toHaveLength(10);

    // 2. Another read the other 30, stored them all and died before acknowledging them.
    h = await startHarness({ redisPrefix: prefix, config: (c) => ({ ...c, intake: { stream: `${prefix}:elsewhere`, claimIdleMs: 60_000 } }) });
    const real = h.store.streams!.group(stream, STREAM_GROUP);
    let died = false;
    const diesBeforeAcknowledging: StreamGroup = {
      stream,
      readNew: (consumer, count) => real.readNew(consumer, count),
      readOwnPending: (consumer, count) => real.readOwnPending(consumer, count),
      claimIdle: (consumer, idleMs, count, cursor) => real.claimIdle(consumer, idleMs, count, cursor),
      acknowledge: (ids) => {
        if (ids.length === 0) return Promise.resolve();
        died = true;
        return new Promise<void>(() => undefined); // the process is gone: it never acknowledges
      },
      deadLetters: real.deadLetters,
      appendDeadLetter: (fields) => real.appendDeadLetter(fields),
      trimAcknowledged: (before) => real.trimAcknowledged(before),
      leave: (consumer) => real.leave(consumer),
    };
    const { log } = capturedLogger('error');
    const dying = new StreamIntake(diesBeforeAcknowledging, new NotificationIntake(h.service.accounts).acceptFromStream, { pollMs: 10, claimIdleMs: 60_000, maxEntryBytes: 65_536 }, log, () => undefined);
    dying.start();
    await until(async () => died, 'the dying instance to store its entries');
    const storedBeforeDeath = await storedNotices(redis, prefix);
    expect(storedBeforeDeath).toHaveLength(30);
    expect((await redis.xPending(stream, STREAM_GROUP)).pending).toBe(40);
    await h.close();

    // 3. A new instance starts: after the entries were idle for claimIdleMs it takes them over.
    h = await startHarness({ redisPrefix: prefix, config: quickTakeOver });
    await until(() => allAcknowledged(redis, stream), 'the dead instances\u2019 entries taken over and acknowledged');
    const stored = await storedNotices(redis, prefix);
    expect(countByOrder(stored)).toEqual(Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`K-${i}`, 1])));
    // the 30 stored before the death kept their records: storing them again found them
    const ids = new Set(stored.map((n) => n.id));
    expect(storedBeforeDeath.every((n) => ids.has(n.id))).toBe(true);
    expect(h.logs()).toContain('stream entries of a stopped reader taken over');
    // the dead consumers hold nothing any more
    const consumers = await redis.xInfoConsumers(stream, STREAM_GROUP);
    expect(consumers.filter((c) => c.pending > 0)).toEqual([]);
  });

  it('moves entries that cannot be stored as sent to <stream>:dead with an error and their fields, and acknowledges them', async () => {
    const prefix = freshPrefix();
    const stream = `${prefix}:intake`;
    h = await startHarness({ redisPrefix: prefix, config: quickTakeOver });
    const sent: Record<string, { expect: RegExp; fields: Record<string, string> }> = {};
    const bad = async (expectError: RegExp, fields: Record<string, string>) => {
      sent[await redis.xAdd(stream, '*', fields)] = { expect: expectError, fields };
    };
    await bad(/^invalid_json: /, { notification: '{"openid": ' });
    await bad(/^invalid_request: .*"field":"openid"/, { notification: JSON.stringify({ ...notice('D-2'), openid: 'x' }) });
    await bad(/^unknown_template: /, { notification: JSON.stringify(notice('D-3', { template: 'no_such_template' })) });
    await bad(/^unknown_account: /, { notification: JSON.stringify(notice('D-4', { account: 'wx1111111111111111' })) });
    await bad(/^invalid_entry: no field "notification"/, { payload: JSON.stringify(notice('D-5')) });
    await bad(/^body_too_large: /, { notification: JSON.stringify(notice('D-6', { fallbackText: 'x'.repeat(70_000) })) });
    await bad(/^invalid_request: idempotencyKey must be/, { notification: JSON.stringify(notice('D-7')), idempotencyKey: 'has a space' });
    await add(redis, stream, notice('D-8'), 'order-D-8');
    await until(() => allAcknowledged(redis, stream), 'D-8 stored');
    await bad(/^idempotency_conflict: .*"id":"n/, { notification: JSON.stringify(notice('D-8-changed')), idempotencyKey: 'order-D-8' });
    await add(redis, stream, notice('D-10'));

    await until(async () => (await allAcknowledged(redis, stream)) && (await redis.xLen(`${stream}:dead`)) === 8, 'the bad entries moved and everything acknowledged');
    const dead = (await redis.xRange(`${stream}:dead`, '-', '+')) ?? [];
    for (const letter of dead) {
      const original = sent[letter.message.entry];
      expect(original).toBeDefined();
      expect(letter.message.error).toMatch(original.expect);
      expect(letter.message).toMatchObject(original.fields);
    }
    expect(new Set(dead.map((d) => d.message.entry))).toEqual(new Set(Object.keys(sent)));
    expect(countByOrder(await storedNotices(redis, prefix))).toEqual({ 'D-8': 1, 'D-10': 1 });
  });

  it('waits while Redis is away, without spinning, and reads on when it is back', async () => {
    const server = await RedisServer.launch({ persistence: 'aof' });
    const { log, text } = capturedLogger('info');
    const prefix = freshPrefix();
    const stream = `${prefix}:intake`;
    const stack = await startStack({
      account: APP,
      templates: TEMPLATES,
      users: [USER],
      apiKeys: [API_KEY],
      config: (c) => ({ ...quickTakeOver(c), worker: { ...c.worker, pollMs: 10 } }),
      store: { redisUrl: server.url, prefix },
      log,
    });
    const business = await testRedisClient(server.url);
    try {
      for (let i = 0; i < 3; i++) await add(business, stream, notice(`O-${i}`));
      await until(() => allAcknowledged(business, stream), 'the first entries stored');
      await server.kill();
      await new Promise((r) => setTimeout(r, 2000));
      await server.restart();
      await until(async () => business.isReady, 'the business client back');
      for (let i = 3; i < 6; i++) await add(business, stream, notice(`O-${i}`));
      await until(() => allAcknowledged(business, stream), 'the entries added after the outage stored', 15_000);
      expect(countByOrder(await storedNotices(business, prefix))).toEqual({ 'O-0': 1, 'O-1': 1, 'O-2': 1, 'O-3': 1, 'O-4': 1, 'O-5': 1 });
      const lines = text().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { message: string; failedRounds?: number });
      expect(lines.filter((l) => l.message === 'stream intake waits for the store').length).toBeGreaterThanOrEqual(1);
      const back = lines.find((l) => l.message === 'stream intake reads again');
      // about 2 s away with back-off doubling from 100 ms: a handful of rounds, not one every poll (10 ms)
      expect(back?.failedRounds).toBeGreaterThanOrEqual(2);
      expect(back?.failedRounds).toBeLessThanOrEqual(12);
    } finally {
      await business.close().catch(() => undefined);
      await stack.close();
      await server.stop();
    }
  });

  it('stops reading on service.stop() and leaves the group; the in-memory store has no stream reader', async () => {
    const prefix = freshPrefix();
    const stream = `${prefix}:intake`;
    h = await startHarness({ redisPrefix: prefix, config: quickTakeOver });
    await add(redis, stream, notice('P-1'));
    await until(() => allAcknowledged(redis, stream), 'P-1 stored');
    expect(h.logs()).toContain('stream intake reading');
    expect(await redis.xInfoConsumers(stream, STREAM_GROUP)).toHaveLength(1);
    await h.close();
    h = undefined;
    expect(await redis.xInfoConsumers(stream, STREAM_GROUP)).toEqual([]);
    await add(redis, stream, notice('P-2'));
    await new Promise((r) => setTimeout(r, 300));
    expect((await redis.xInfoGroups(stream)).find((g) => g.name === STREAM_GROUP)).toMatchObject({ lag: 1 });

    h = await startHarness({ memory: true });
    await new Promise((r) => setTimeout(r, 100));
    expect(h.logs()).not.toContain('stream intake');
  });

  it('keeps every entry not yet acknowledged, and removes acknowledged ones once old enough', async () => {
    const prefix = freshPrefix();
    const stream = `${prefix}:intake`;
    h = await startHarness({ redisPrefix: prefix, config: (c) => ({ ...c, intake: { stream: `${prefix}:elsewhere`, claimIdleMs: 60_000 } }) });
    const group = h.store.streams!.group(stream, STREAM_GROUP);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await add(redis, stream, notice(`T-${i}`)));
    const read = await group.readNew('reader', 3);
    expect(read.map((e) => e.id)).toEqual(ids.slice(0, 3));
    await group.acknowledge([ids[1], ids[2]]);
    await group.trimAcknowledged(Date.now());
    expect(await redis.xLen(stream)).toBe(5); // the oldest is still pending: nothing before it may go
    await group.acknowledge([ids[0]]);
    await group.trimAcknowledged(Number(ids[0].split('-')[0]) - 1);
    expect(await redis.xLen(stream)).toBe(5); // acknowledged, but younger than asked
    await group.trimAcknowledged(Date.now());
    expect(((await redis.xRange(stream, '-', '+')) ?? []).map((e) => e.id)).toEqual(ids.slice(3)); // the two never read stay
    expect(await group.leave('reader')).toBe(true);
    await group.readNew('holder', 1);
    expect(await group.leave('holder')).toBe(false); // it holds an entry: leaving would drop it
  });
});
