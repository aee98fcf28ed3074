import { freePort } from '../../src/dev/free-port';
import { RedisServer } from '../../src/dev/redis-server';
import { connectStore } from '../../src/store/connect-store';
import { MemoryStore } from '../../src/store/memory-store';
import { RedisStore } from '../../src/store/redis-store';
import type { HistoryEntry } from '../../src/store/store';
import { APP, describeStoreContract } from './contract';
import { redisAdmin, type RedisAdmin } from './redis-admin';
import { describeRedisStore } from './redis-behaviour';

const url = process.env.TEST_REDIS_URL;
if (!url) {
  throw new Error('TEST_REDIS_URL is not set: run `npm test`, or start redis-server and set TEST_REDIS_URL=redis://127.0.0.1:6390');
}

let admin: RedisAdmin;
beforeAll(async () => {
  admin = await redisAdmin({ url: url! });
});
afterAll(() => admin.close());

let count = 0;
/** Unique per test, so tests (and test files in parallel) never see each other's keys. */
const newPrefix = () => `wxrt-${process.pid}-${Date.now().toString(36)}-${count++}`;

describeStoreContract('RedisStore', async () => {
  const prefix = newPrefix();
  const store = await RedisStore.connect({ url: url!, prefix });
  return { store, cleanup: async () => { await store.close(); await admin.del(await admin.keysContaining(prefix)); } };
});

describeRedisStore('one Redis', () => ({ url: url! }), () => admin, newPrefix);

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

describe('RedisStore on one Redis: connection', () => {
  it('refuses a bad prefix and a bad shard count', async () => {
    await expect(RedisStore.connect({ url: url!, prefix: 'a}b' })).rejects.toThrow(/prefix/);
    await expect(RedisStore.connect({ url: url!, shardsPerAccount: 257 })).rejects.toThrow(/shardsPerAccount/);
  });

  it('fails fast with a clear error when nothing listens on the port', async () => {
    const port = await freePort();
    const started = Date.now();
    await expect(RedisStore.connect({ url: `redis://user:secret@127.0.0.1:${port}` })).rejects.toThrow(
      new RegExp(`^Cannot connect to Redis at redis://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`),
    );
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('is built from configuration: one Redis, a cluster, or memory', async () => {
    const store = await connectStore({ redisUrl: url!, redisClusterNodes: [], prefix: newPrefix() });
    expect(store).toBeInstanceOf(RedisStore);
    await store.close();
    const memory = await connectStore({});
    expect(memory).toBeInstanceOf(MemoryStore);
    await memory.close();
    await expect(connectStore({ redisUrl: url!, redisClusterNodes: ['127.0.0.1:7000'] })).rejects.toThrow(/not both/);
    await expect(connectStore({ redisClusterNodes: ['localhost'] })).rejects.toThrow(/host:port, got "localhost"/);
  });

  it('does not hang on a server that stops answering', async () => {
    const server = await RedisServer.launch();
    const patient = await RedisStore.connect({ url: server.url, prefix: 'hang' });
    // its call timeout is well past the socket timeout, so it is the dropped socket that ends its call
    const quick = await RedisStore.connect({ url: server.url, prefix: 'hang', socketTimeoutMs: 1000, callTimeoutMs: 4000 });
    try {
      server.pause();
      const started = Date.now();
      await Promise.all([
        expect(patient.ping()).rejects.toEqual(unavailable('Redis did not answer PING within 500 ms')),
        expect(patient.forAccount(APP).getValue('k')).rejects.toEqual(unavailable('Redis did not answer getValue within 1500 ms')),
        expect(quick.forAccount(APP).getValue('k')).rejects.toThrow(/timeout/i), // the silent socket is dropped
      ]);
      expect(Date.now() - started).toBeLessThan(4000);
      expect(patient.lastUnreachableAt()).toBeGreaterThanOrEqual(started);
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
    const account = store.forAccount(APP);
    try {
      await account.setValue('before', '1');
      await server.kill();
      while (errors.length === 0) await new Promise((resolve) => setTimeout(resolve, 10)); // the client noticed
      await expect(store.ping()).rejects.toThrow(/not connected/);
      // refused at once while down, and not queued to run later behind the caller's back
      await expect(account.setValue('during', '2')).rejects.toEqual(unavailable('Redis is not connected (setValue)'));
      await server.restart(); // same port; no persistence, so the data and the script cache are gone
      await eventually(() => store.ping());
      await expect(account.getValue('during')).resolves.toBeNull();
      // scripts run again although the server forgot them (EVALSHA → NOSCRIPT → EVAL)
      const id = account.newId('o1');
      await account.create(id, { status: 'queued' }, entry('queued'), { ttlSeconds: 60 });
      await expect(account.move(id, { from: ['queued'], to: 'delivered' })).resolves.toBe(true);
    } finally {
      await store.close();
      await server.stop();
    }
  });
});
