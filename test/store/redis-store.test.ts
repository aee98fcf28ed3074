import { createClient } from 'redis';
import { freePort } from '../../src/dev/free-port';
import { RedisServer } from '../../src/dev/redis-server';
import { RedisStore } from '../../src/store/redis-store';
import type { HistoryEntry } from '../../src/store/store';
import { describeStoreContract } from './contract';

const url = process.env.TEST_REDIS_URL;
if (!url) {
  throw new Error('TEST_REDIS_URL is not set: run `npm test`, or start redis-server and set TEST_REDIS_URL=redis://127.0.0.1:6390');
}

const admin = createClient({ url });
admin.on('error', () => {});
beforeAll(() => admin.connect());
afterAll(() => admin.close());

let count = 0;
/** Unique per test, so tests (and test files in parallel) never see each other's keys. */
const newPrefix = () => `wxrt-${process.pid}-${Date.now().toString(36)}-${count++}`;

async function keysOf(prefix: string): Promise<string[]> {
  const found: string[] = [];
  // match the prefix anywhere, so a key missing the tag would show up too
  for await (const keys of admin.scanIterator({ MATCH: `*${prefix}*`, COUNT: 1000 })) found.push(...keys);
  return found.sort();
}

async function deleteKeys(prefix: string): Promise<void> {
  const keys = await keysOf(prefix);
  if (keys.length > 0) await admin.del(keys);
}

async function connect(prefix = newPrefix()) {
  const store = await RedisStore.connect({ url: url!, prefix });
  return { store, prefix, cleanup: async () => { await store.close(); await deleteKeys(prefix); } };
}

describeStoreContract('RedisStore', () => connect());

/** The store's "cannot reach Redis" error, with this message. */
const unavailable = (message: string) => expect.objectContaining({ name: 'StoreUnavailableError', message });

async function eventually(check: () => Promise<void>, deadline = Date.now() + 5000): Promise<void> {
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

const entry = (status: string): HistoryEntry => ({ at: new Date(0).toISOString(), status, detail: '' });

describe('RedisStore specifics', () => {
  /** Touches every kind of key once. */
  async function useEveryKind(store: RedisStore): Promise<void> {
    const now = Date.now();
    await store.create('n1', { status: 'queued' }, entry('queued'), { ttlSeconds: 600, dueAt: now, idempotency: { key: 'ik', fingerprint: 'f' } });
    await store.move('n1', { from: ['queued'], to: 'awaiting_receipt', history: entry('awaiting_receipt') });
    await store.linkMsgid('m1', 'n1', 600);
    await store.resolveMsgid('m2', 'success', 600);
    await store.firstSeen('push', 600);
    await store.setValue('token', 't', 60_000);
    await store.setValue('forever', 'f');
    await store.acquireLock('refresh', 'me', 60_000);
    await store.setHash('templates', { a: '1' });
    await store.openWindow('o1', 'message', 5, now + 60_000, 60);
    await store.park('n1', { from: ['awaiting_receipt'], to: 'parked' }, { owner: 'o1', score: 1, ttlSeconds: 600 });
    await store.firstSeenPush('msg:1', 600);
    await store.rememberBotReply('msg:1', '<xml/>', 60_000);
  }

  it('puts every key under the one hash tag {prefix}', async () => {
    const { store, prefix, cleanup } = await connect();
    try {
      await useEveryKind(store);
      const keys = await keysOf(prefix);
      const tag = `{${prefix}}:`;
      expect(keys.filter((key) => !key.startsWith(tag))).toEqual([]);
      expect(keys.map((key) => key.slice(tag.length))).toEqual(
        ['bot-reply:msg:1', 'due', 'early:m2', 'hash:templates', 'hist:n1', 'idem:ik', 'lock:refresh', 'msgid:m1', 'push:msg:1', 'rec:n1', 'seen:push', 'set:parked:o1', 'val:forever', 'val:token', 'win:message:o1'],
      );
    } finally {
      await cleanup();
    }
  });

  it('sets TTLs on records, history, idempotency, msgid, dedupe, window, parked, push and value keys', async () => {
    const { store, prefix, cleanup } = await connect();
    try {
      await useEveryKind(store);
      const ttl = async (rest: string) => admin.ttl(`{${prefix}}:${rest}`);
      for (const rest of ['rec:n1', 'hist:n1', 'idem:ik', 'msgid:m1', 'early:m2', 'seen:push', 'val:token', 'lock:refresh', 'win:message:o1', 'set:parked:o1', 'push:msg:1', 'bot-reply:msg:1']) {
        expect([rest, await ttl(rest)]).toEqual([rest, expect.any(Number)]);
        expect(await ttl(rest)).toBeGreaterThan(0);
      }
      // by design without TTL: the schedule, hashes and values set without one
      for (const rest of ['due', 'hash:templates', 'val:forever']) expect(await ttl(rest)).toBe(-1);
    } finally {
      await cleanup();
    }
  });

  it('never hands the same id to two connections claiming at once', async () => {
    const a = await connect();
    const b = await connect(a.prefix);
    try {
      const ids = Array.from({ length: 60 }, (_, i) => `n${i}`);
      await Promise.all(ids.map((id, i) => a.store.create(id, { status: 'queued' }, entry('queued'), { ttlSeconds: 600, dueAt: i })));
      const claims = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).store.claimDue(1000, 60_000, 7)));
      const all = claims.flat();
      expect(new Set(all).size).toBe(all.length);
      expect(all.sort()).toEqual([...ids].sort());
    } finally {
      await b.store.close();
      await a.cleanup();
    }
  });

  it('refuses a bad prefix', async () => {
    await expect(RedisStore.connect({ url: url!, prefix: 'a}b' })).rejects.toThrow(/prefix/);
  });

  it('fails fast with a clear error when nothing listens on the port', async () => {
    const port = await freePort();
    const started = Date.now();
    await expect(RedisStore.connect({ url: `redis://user:secret@127.0.0.1:${port}` })).rejects.toThrow(
      new RegExp(`^Cannot connect to Redis at redis://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`),
    );
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('does not hang on a server that stops answering', async () => {
    const server = await RedisServer.launch();
    const patient = await RedisStore.connect({ url: server.url, prefix: 'hang' });
    const quick = await RedisStore.connect({ url: server.url, prefix: 'hang', socketTimeoutMs: 1000 });
    try {
      server.pause();
      const started = Date.now();
      await Promise.all([
        expect(patient.ping()).rejects.toEqual(unavailable('Redis did not answer PING within 500 ms')),
        expect(patient.getValue('k')).rejects.toEqual(unavailable('Redis did not answer getValue within 1500 ms')),
        expect(quick.getValue('k')).rejects.toThrow(/timeout/i), // the silent socket is dropped
      ]);
      expect(Date.now() - started).toBeLessThan(2500);
      server.resume();
      await patient.ping();
      await eventually(() => quick.ping()); // reconnected
    } finally {
      server.resume();
      await Promise.all([patient.close(), quick.close()]);
      await server.stop();
    }
  });

  it('keeps working after the Redis server restarts', async () => {
    const server = await RedisServer.launch();
    const errors: Error[] = [];
    const store = await RedisStore.connect({ url: server.url, prefix: 'restart', onError: (err) => errors.push(err) });
    try {
      await store.setValue('before', '1');
      await server.kill();
      while (errors.length === 0) await new Promise((resolve) => setTimeout(resolve, 10)); // the client noticed
      await expect(store.ping()).rejects.toThrow(/not connected/);
      // refused at once while down, and not queued to run later behind the caller's back
      await expect(store.setValue('during', '2')).rejects.toEqual(unavailable('Redis is not connected (setValue)'));
      await server.restart(); // same port; no persistence, so the data and the script cache are gone
      await eventually(() => store.ping());
      await expect(store.getValue('during')).resolves.toBeNull();
      // scripts run again although the server forgot them (EVALSHA → NOSCRIPT → EVAL)
      await store.create('n1', { status: 'queued' }, entry('queued'), { ttlSeconds: 60 });
      await expect(store.move('n1', { from: ['queued'], to: 'delivered' })).resolves.toBe(true);
    } finally {
      await store.close();
      await server.stop();
    }
  });
});
