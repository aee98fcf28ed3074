import { RedisConnection, type RedisTarget } from '../../src/store/redis-connection';
import { RedisStore, type RedisStoreOptions } from '../../src/store/redis-store';
import type { LuaScript } from '../../src/store/scripts/lua-script';
import type { DueWork, HistoryEntry } from '../../src/store/store';
import { StoreUnavailableError } from '../../src/store/unavailable';
import { eventually } from '../helpers/eventually';
import { APP, receipt } from './contract';
import type { RedisAdmin } from './redis-admin';
import { settledValue } from '../../src/settled';

const entry = (status: string): HistoryEntry => ({ at: new Date(0).toISOString(), status, detail: '' });
const HOUR_MS = 3_600_000;
/** A claim's account and id of each claimed record (the record the claim read is left out). */
const workOf = async (claim: Promise<DueWork[]>) => (await claim).map(({ account, id }) => ({ account, id }));

/**
 * What only the Redis store has to get right, on one Redis and on a cluster: where keys go and how
 * long they live, the idempotency key and its record in two steps, and the due index (its races
 * and its sweep). `target()` is read when a test runs (a cluster starts in the file's beforeAll).
 */
export function describeRedisStore(name: string, target: () => RedisTarget, admin: () => RedisAdmin, newPrefix: () => string): void {
  describe(`RedisStore on ${name}`, () => {
    const open: RedisStore[] = [];
    const used: string[] = [];
    async function connect(options: Partial<RedisStoreOptions> & { prefix?: string } = {}) {
      const prefix = options.prefix ?? newPrefix();
      const store = await RedisStore.connect({ ...target(), indexSweepIntervalMs: HOUR_MS, ...options, prefix } as RedisStoreOptions);
      open.push(store);
      used.push(prefix);
      return { store, prefix, account: store.forAccount(APP) };
    }
    afterEach(async () => {
      jest.restoreAllMocks();
      await Promise.all(open.splice(0).map((store) => store.close()));
      for (const prefix of used.splice(0)) await admin().del(await admin().keysContaining(prefix));
    });

    /** Touches every kind of key once; returns the record's id. */
    async function useEveryKind(store: RedisStore): Promise<string> {
      const now = Date.now();
      const account = store.forAccount(APP);
      const id = account.newId('o1');
      await account.create(id, { status: 'queued' }, entry('queued'), { ttlSeconds: 600, dueAt: now, idempotency: { key: 'ik', fingerprint: 'f' }, index: { terms: ['u:o1'], at: now } });
      await account.move(id, { from: ['queued'], to: 'awaiting_receipt', history: entry('awaiting_receipt') });
      await account.linkMsgid('m1', id, 600);
      await receipt(account, 'o1', 'm2', 'success', { pushKey: 'msg:1' });
      await account.firstSeen('push', 600);
      await account.setValue('token', 't', 60_000);
      await account.setValue('forever', 'f');
      await account.acquireLock('refresh', 'me', 60_000);
      await account.setHash('templates', { a: '1' });
      await account.openWindow('o1', 'message', 5, now + 60_000, 60);
      await account.park(id, { from: ['awaiting_receipt'], to: 'parked' }, { owner: 'o1', score: 1, ttlSeconds: 600, until: Date.now() + 3_600_000 });
      await account.firstSeenPush('o1', 'msg:1', 600);
      await account.rememberBotReply('o1', 'msg:1', '<xml/>', 60_000);
      await store.deployment.setValue('ticket', 'x');
      await store.claimDue(now, 60_000, 10);
      return id;
    }

    it('puts every key under its tag: the deployment, the account, or the user\'s shard', async () => {
      const { store, prefix } = await connect();
      const id = await useEveryKind(store);
      const shard = `{${prefix}:${APP}:${id.slice(1, 3)}}:`;
      await expect(admin().keysContaining(prefix)).resolves.toEqual(
        [
          ...[`accounts`, `due-index`, `val:ticket`].map((rest) => `{${prefix}}:${rest}`),
          ...['hash:templates', 'idem:ik', 'lock:refresh', 'seen:push', 'val:forever', 'val:token'].map((rest) => `{${prefix}:${APP}}:${rest}`),
          ...['bot-reply:o1:msg:1', 'due', 'early:m2', 'ix-parked', 'ix:u%3Ao1', 'msgid:m1', 'push:o1:msg:1', `rec:${id}`, 'set:parked:o1', 'win:message:o1'].map((rest) => shard + rest),
        ].sort(),
      );
    });

    it('sets TTLs on everything but the schedules, the account list, hashes and values kept for good', async () => {
      const { store, prefix } = await connect();
      await useEveryKind(store);
      for (const key of await admin().keysContaining(prefix)) {
        const kept = /(:due|:due-index|:accounts|:hash:templates|:val:forever|:val:ticket)$/.test(key);
        expect([key, (await admin().ttl(key)) > 0]).toEqual([key, !kept]);
      }
    });

    it("gives a batch's counter hashes their expiry when its counts create them", async () => {
      const { account, prefix } = await connect();
      const at = Date.now();
      const tally = { at, subject: 'order_paid', counters: ['accepted'], keepSeconds: 3600 };
      const ids = ['o1', 'o2', 'o3'].map((user) => account.newId(user));
      const created = (await account.createMany(ids.map((id) => ({ id, fields: { status: 'queued' }, history: entry('queued'), options: { ttlSeconds: 600, tally } })))).map(settledValue);
      expect(created).toEqual(ids.map(() => ({ created: true })));
      const counterKeys = (await admin().keysContaining(prefix)).filter((key) => key.includes(':cnt:'));
      expect(counterKeys.length).toBeGreaterThanOrEqual(2); // a minute and an hour hash per shard used
      for (const key of counterKeys) expect([key, (await admin().ttl(key)) > 3600]).toEqual([key, true]);
    });

    it("counts the receipts of one call once per counter (on one Redis in one shard's counters, on a cluster in each shard's); the account's counts are their sum", async () => {
      const { account, prefix } = await connect();
      const at = Date.now();
      const users = Array.from({ length: 24 }, (_, i) => `o${i}`);
      for (const [i, user] of users.entries()) {
        const id = account.newId(user);
        await account.create(id, { status: 'awaiting_receipt', openid: user, template: 'order_paid' }, entry('awaiting_receipt'), { ttlSeconds: 600 });
        await account.linkMsgid(`m${i}`, id, 600);
      }
      const tally = { at, subject: { field: 'template' }, counters: ['delivered'], keepSeconds: 3600 };
      const move = { from: ['awaiting_receipt'], to: 'delivered', history: entry('delivered'), dueAt: null, tally };
      const notes = { at: new Date(at).toISOString(), foreign: 'foreign', late: 'late' };
      const applied = await Promise.all(
        account.applyReceipts(users.map((user, i) => ({ user, pushKey: `rcpt:${user}:m${i}`, seenSeconds: 600, msgid: `m${i}`, status: 'success', stashSeconds: 600, move, notes }))),
      );
      expect(applied.map((a) => a.result)).toEqual(users.map(() => 'moved'));
      const counted = (await account.readCounters('minute', at - 60_000, at + 60_000)).filter((c) => c.counter === 'delivered');
      expect(counted.map(({ subject, n }) => ({ subject, n }))).toEqual([{ subject: 'order_paid', n: users.length }]);
      const keys = await admin().keysContaining(prefix);
      const shardOf = (key: string) => key.slice(0, key.indexOf('}') + 1);
      const recordShards = new Set(keys.filter((key) => key.includes(':rec:')).map(shardOf));
      const minuteHashes = keys.filter((key) => key.includes(':cnt:m:'));
      expect(recordShards.size).toBeGreaterThan(1); // the receipts came from several shards
      expect(minuteHashes.length).toBe('clusterNodes' in target() ? recordShards.size : 1);
    });

    it('never hands the same id to two connections claiming at once', async () => {
      const a = await connect();
      const b = await connect({ prefix: a.prefix });
      const ids = Array.from({ length: 60 }, (_, i) => a.account.newId(`user-${i % 13}`));
      await Promise.all(ids.map((id, i) => a.account.create(id, { status: 'queued' }, entry('queued'), { ttlSeconds: 600, dueAt: i })));
      const all: string[] = [];
      for (let round = 0; round < 20 && all.length < ids.length; round++) {
        const claims = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).store.claimDue(1000, 60_000, 7)));
        all.push(...claims.flat().map((work) => work.id));
      }
      expect(new Set(all).size).toBe(all.length);
      expect(all.sort()).toEqual([...ids].sort());
    });

    /** Lets `script` run through `before()` first, the first time it is called; returns whether that happened. */
    function beforeFirst(script: string, before: () => Promise<void>): () => boolean {
      const run = RedisConnection.prototype.run;
      let fired = false;
      jest.spyOn(RedisConnection.prototype, 'run').mockImplementation(async function (this: RedisConnection, lua: LuaScript, keys: string[], args: string[]) {
        if (lua.name === script && !fired) {
          fired = true;
          await before();
        }
        return run.call(this, lua, keys, args);
      });
      return () => fired;
    }

    it('completes a request cut short between its idempotency key and its record, under the first id', async () => {
      const { store, account } = await connect();
      const first = account.newId('o1');
      const create = (id: string, fingerprint = 'f') =>
        account.create(id, { status: 'queued', body: 'b' }, entry('queued'), { ttlSeconds: 600, dueAt: 5, idempotency: { key: 'client:k1', fingerprint } });
      // the record's write fails after the key was taken: what an instance dying between the steps leaves
      const run = RedisConnection.prototype.run;
      const failed = jest.spyOn(RedisConnection.prototype, 'run').mockImplementation(async function (this: RedisConnection, lua: LuaScript, keys: string[], args: string[]) {
        if (lua.name === 'createRecords') throw new StoreUnavailableError('injected: the instance died');
        return run.call(this, lua, keys, args);
      });
      await expect(create(first)).rejects.toThrow('injected');
      expect(failed).toHaveBeenCalled();
      failed.mockRestore();
      await expect(account.get(first)).resolves.toBeNull();

      // another fingerprint under the same key is refused and creates nothing
      await expect(create(account.newId('o1'), 'other')).resolves.toEqual({ created: false, existingId: first, fingerprint: 'f' });
      await expect(account.get(first)).resolves.toBeNull();
      // the client's retry (a fresh id, the same request) completes the first id's record
      const retry = account.newId('o1');
      await expect(create(retry)).resolves.toEqual({ created: false, existingId: first, fingerprint: 'f' });
      await expect(account.get(retry)).resolves.toBeNull();
      await expect(account.get(first)).resolves.toEqual({ fields: { status: 'queued', body: 'b' }, history: [entry('queued')] });
      await expect(create(account.newId('o1'))).resolves.toEqual({ created: false, existingId: first, fingerprint: 'f' });
      await expect(workOf(store.claimDue(10, 1000, 10))).resolves.toEqual([{ account: APP, id: first }]); // on the schedule too
    });

    it('completes such a request in a createMany, among other records, once', async () => {
      const { store, account } = await connect();
      const first = account.newId('o1');
      const keyed = (id: string, fingerprint = 'f') => ({ id, fields: { status: 'queued', body: 'b' }, history: entry('queued'), options: { ttlSeconds: 600, dueAt: 5, idempotency: { key: 'client:k1', fingerprint } } });
      const run = RedisConnection.prototype.run;
      const failed = jest.spyOn(RedisConnection.prototype, 'run').mockImplementation(async function (this: RedisConnection, lua: LuaScript, keys: string[], args: string[]) {
        if (lua.name === 'createRecords') throw new StoreUnavailableError('injected: the instance died');
        return run.call(this, lua, keys, args);
      });
      await expect(account.createMany([keyed(first)]).then((all) => all.map(settledValue))).rejects.toThrow('injected');
      expect(failed).toHaveBeenCalled();
      failed.mockRestore();
      await expect(account.get(first)).resolves.toBeNull();

      const [retry, again, conflict, other] = [account.newId('o1'), account.newId('o1'), account.newId('o1'), account.newId('o2')];
      const results = (
        await account.createMany([keyed(retry), keyed(again), keyed(conflict, 'other'), { id: other, fields: { status: 'queued' }, history: entry('queued'), options: { ttlSeconds: 600, dueAt: 5 } }])
      ).map(settledValue);
      expect(results).toEqual([
        { created: false, existingId: first, fingerprint: 'f' },
        { created: false, existingId: first, fingerprint: 'f' },
        { created: false, existingId: first, fingerprint: 'f' },
        { created: true },
      ]);
      await expect(account.get(first)).resolves.toEqual({ fields: { status: 'queued', body: 'b' }, history: [entry('queued')] });
      for (const id of [retry, again, conflict]) await expect(account.get(id)).resolves.toBeNull();
      const claimed = (await store.claimDue(10, 1000, 10)).map((w) => w.id);
      expect(claimed.sort()).toEqual([first, other].sort()); // on the schedule too, once
    });

    it('moves the records of a shard that come together in one script, each as alone, and a lone one with the move script itself; a failed script fails each of its moves', async () => {
      const { account } = await connect();
      const ids = Array.from({ length: 5 }, () => account.newId('o1'));
      for (const id of ids) await account.create(id, { status: 'queued', openid: 'o1' }, entry('queued'), { ttlSeconds: 600 });
      const scripts: Array<{ name: string; items: number }> = [];
      let failNext = false;
      const run = RedisConnection.prototype.run;
      const spy = jest.spyOn(RedisConnection.prototype, 'run').mockImplementation(function (this: RedisConnection, lua: LuaScript, keys: string[], args: string[]) {
        scripts.push({ name: lua.name, items: lua.name === 'moveRecords' ? (JSON.parse(args[0]) as unknown[]).length : 1 });
        if (lua.name === 'moveRecords' && failNext) {
          failNext = false;
          return Promise.reject(new Error('injected'));
        }
        return run.call(this, lua, keys, args);
      });
      const moved = await Promise.all([
        ...ids.slice(0, 3).map((id) => account.move(id, { from: ['queued'], to: 'delivered', history: entry('delivered') })),
        account.move(ids[3], { from: ['awaiting_receipt'], to: 'delivered' }), // its condition fails: only it is not moved
      ]);
      expect(moved).toEqual([true, true, true, false]);
      expect(scripts.filter((s) => s.name === 'moveRecords')).toEqual([{ name: 'moveRecords', items: 4 }]);
      for (const id of ids.slice(0, 3)) await expect(account.get(id)).resolves.toMatchObject({ fields: { status: 'delivered' }, history: [entry('queued'), entry('delivered')] });
      // a lone move goes as the move script itself (no items for Redis to decode), with the same effect
      scripts.length = 0;
      await expect(account.move(ids[0], { from: ['delivered'], to: 'delivered', history: entry('again') })).resolves.toBe(true);
      expect(scripts.map((s) => s.name)).toEqual(['moveRecord']);
      await expect(account.get(ids[0])).resolves.toMatchObject({ history: [entry('queued'), entry('delivered'), entry('again')] });
      failNext = true;
      const failed = await Promise.allSettled([ids[3], ids[4]].map((id) => account.move(id, { from: ['queued'], to: 'delivered' })));
      expect(failNext).toBe(false); // the fault fired
      expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
      await expect(account.get(ids[4])).resolves.toMatchObject({ fields: { status: 'queued' } });
      spy.mockRestore();
    });

    it('creates the records of a shard in one script per expiry, listing time and tally they share, each with its own expiry, listing and due time', async () => {
      const { store, account } = await connect();
      const now = Date.now();
      const ids = [account.newId('o1'), account.newId('o1'), account.newId('o1'), account.newId('o1')];
      const record = (id: string, ttlSeconds: number, listedAt: number, dueAt: number) => ({
        id,
        fields: { status: 'queued', openid: 'o1' },
        history: entry('queued'),
        options: { ttlSeconds, dueAt, index: { terms: ['u:o1'], at: listedAt } },
      });
      const scripts: string[] = [];
      const run = RedisConnection.prototype.run;
      jest.spyOn(RedisConnection.prototype, 'run').mockImplementation(function (this: RedisConnection, lua: LuaScript, keys: string[], args: string[]) {
        scripts.push(lua.name);
        return run.call(this, lua, keys, args);
      });
      const results = await account.createMany([record(ids[0], 600, now - 2, now - 30), record(ids[1], 1200, now - 1, now - 20), record(ids[2], 600, now - 2, now - 10), record(ids[0], 600, now - 2, now - 40)]);
      expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
        { created: true },
        { created: true },
        { created: true },
        `record ${ids[0]} already exists`,
      ]);
      expect(scripts.filter((name) => name === 'createRecords')).toHaveLength(2);
      const ttls = await Promise.all(ids.slice(0, 3).map(async (id) => admin().ttl((await admin().keysContaining(`rec:${id}`))[0])));
      expect(ttls.map((ttl) => Math.round(ttl / 100) * 100)).toEqual([600, 1200, 600]);
      // listed newest first, the id written twice once; it keeps what was first written (its due time, not the second's)
      const [newest, ...others] = (await account.findByTerm('u:o1', { limit: 10 })).ids;
      expect([newest, others.sort()]).toEqual([ids[1], [ids[0], ids[2]].sort()]);
      expect((await store.claimDue(now - 25, 60_000, 10)).map((w) => w.id)).toEqual([ids[0]]);
      expect((await store.claimDue(now, 60_000, 10)).map((w) => w.id).sort()).toEqual([ids[1], ids[2]].sort());
    });

    it('takes the idempotency keys of a createMany in one script, each with its record\'s expiry; a key taken in the call holds for the records after it', async () => {
      const { account } = await connect();
      const scripts: string[] = [];
      const run = RedisConnection.prototype.run;
      jest.spyOn(RedisConnection.prototype, 'run').mockImplementation(function (this: RedisConnection, lua: LuaScript, keys: string[], args: string[]) {
        scripts.push(lua.name);
        return run.call(this, lua, keys, args);
      });
      const ids = Array.from({ length: 4 }, (_, i) => account.newId(`o${i}`));
      const keyed = (id: string, key: string, ttlSeconds: number) => ({ id, fields: { status: 'queued' }, history: entry('queued'), options: { ttlSeconds, dueAt: 5, idempotency: { key, fingerprint: 'f' } } });
      const results = (await account.createMany([keyed(ids[0], 'c:a', 600), keyed(ids[1], 'c:b', 1200), keyed(ids[2], 'c:a', 600), keyed(ids[3], 'c:c', 600)])).map(settledValue);
      expect(results).toEqual([{ created: true }, { created: true }, { created: false, existingId: ids[0], fingerprint: 'f' }, { created: true }]);
      expect(scripts.filter((name) => name === 'takeIdempotencyKeys')).toHaveLength(1);
      const ttls = await Promise.all(['c:a', 'c:b'].map(async (key) => admin().ttl((await admin().keysContaining(`idem:${key}`))[0])));
      expect(ttls.map((ttl) => Math.round(ttl / 100) * 100)).toEqual([600, 1200]);
      await expect(account.get(ids[2])).resolves.toBeNull();
    });

    it('claims a record made due while a claim on its shard was between mark and settle', async () => {
      const { store, account } = await connect();
      const now = 1_000_000;
      const [first, second] = [account.newId('o1'), account.newId('o1')];
      await account.create(first, { status: 'queued' }, entry('queued'), { ttlSeconds: 600, dueAt: now });
      const fired = beforeFirst('settleDueClaim', async () => {
        await account.create(second, { status: 'queued' }, entry('queued'), { ttlSeconds: 600, dueAt: now });
      });
      await expect(workOf(store.claimDue(now, 60_000, 10))).resolves.toEqual([{ account: APP, id: first }]); // its shard looked empty after
      expect(fired()).toBe(true);
      await expect(workOf(store.claimDue(now, 60_000, 10))).resolves.toEqual([{ account: APP, id: second }]);
    });

    it('claims a record made due, after the lease end, while a claim was between mark and settle', async () => {
      const { store, account } = await connect();
      const now = 1_000_000;
      const [far, soon] = [account.newId('o1'), account.newId('o1')];
      await account.create(far, { status: 'queued' }, entry('queued'), { ttlSeconds: 600, dueAt: now });
      await account.move(far, { from: ['queued'], to: 'queued', dueAt: now + HOUR_MS }); // the index still says `now`
      const fired = beforeFirst('settleDueClaim', async () => {
        await account.create(soon, { status: 'queued' }, entry('queued'), { ttlSeconds: 600, dueAt: now + 5000 });
      });
      // the claim finds nothing due and sees the shard's next due time an hour away; the record made
      // due in 5 s meanwhile must not be hidden behind that hour
      await expect(workOf(store.claimDue(now, 1000, 10))).resolves.toEqual([]);
      expect(fired()).toBe(true);
      await expect(workOf(store.claimDue(now + 5000, 1000, 10))).resolves.toEqual([{ account: APP, id: soon }]);
    });

    it('sweeps: a hint lost from the due index is found again at the first claim and every interval', async () => {
      const { store, prefix, account } = await connect({ indexSweepIntervalMs: 400 });
      const now = 1_000_000;
      await expect(workOf(store.claimDue(now, 1000, 10))).resolves.toEqual([]); // the first claim swept (nothing yet)
      const id = account.newId('o1');
      await account.create(id, { status: 'queued' }, entry('queued'), { ttlSeconds: 600, dueAt: now });
      const member = `${APP}:${id.slice(1, 3)}`;
      // a creation's hint is sent once the record is stored, and not waited for
      await eventually(async () => (await admin().zScore(`{${prefix}}:due-index`, member)) !== null);
      const loseHint = () => admin().zRem(`{${prefix}}:due-index`, member);
      await expect(loseHint()).resolves.toBe(1);
      await expect(workOf(store.claimDue(now, 1000, 10))).resolves.toEqual([]); // lost until the sweep
      const fresh = await connect({ prefix });
      await expect(workOf(fresh.store.claimDue(now, 1000, 10))).resolves.toEqual([{ account: APP, id }]);
      await expect(loseHint()).resolves.toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 450));
      await expect(workOf(store.claimDue(now + 1000, 1000, 10))).resolves.toEqual([{ account: APP, id }]);
    });

    it('knows the schedule over accounts and shards', async () => {
      const { store, account } = await connect();
      const other = store.forAccount('wxother');
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? account : other).create((i % 2 ? account : other).newId(`u${i}`), { status: 'queued' }, entry('queued'), { ttlSeconds: 600, dueAt: 500 + i })),
      );
      // the creations did not wait for their hints; this instance's read of the index does
      await expect(store.scheduleInfo()).resolves.toEqual({ size: 20, nextDueAt: 500 });
    });
  });
}
