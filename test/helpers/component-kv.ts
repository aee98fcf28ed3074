import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import type { KeyValueStore } from '../../src/store/store';

const DELETE_IF_EQUAL = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

export interface TestKv extends KeyValueStore {
  /** Deletes every key of this store (Redis lost the deployment's data). */
  wipe(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The deployment KeyValueStore on the test redis-server, under a prefix of its own: a few lines of
 * node-redis, so the platform's tests do not depend on how the real store is built. Two calls
 * with one prefix are two instances sharing one Redis.
 */
export async function testKv(prefix = `c${randomBytes(4).toString('hex')}`): Promise<TestKv> {
  const url = process.env.TEST_REDIS_URL;
  if (!url) throw new Error('TEST_REDIS_URL is not set: start a redis-server and point TEST_REDIS_URL at it');
  const client = createClient({ url });
  await client.connect();
  const k = (kind: string, key: string) => `${prefix}:${kind}:${key}`;
  return {
    async firstSeen(key, ttlSeconds) {
      return (await client.set(k('seen', key), '1', { condition: 'NX', expiration: { type: 'EX', value: ttlSeconds } })) === 'OK';
    },
    async forget(key) {
      await client.del(k('seen', key));
    },
    getValue: (key) => client.get(k('value', key)),
    async setValue(key, value, ttlMs) {
      await client.set(k('value', key), value, ttlMs === undefined ? {} : { expiration: { type: 'PX', value: Math.max(1, Math.round(ttlMs)) } });
    },
    async setValueIfAbsent(key, value, ttlMs) {
      return (await client.set(k('value', key), value, { condition: 'NX', expiration: { type: 'PX', value: ttlMs } })) === 'OK';
    },
    async deleteValueIf(key, expected) {
      return (await client.eval(DELETE_IF_EQUAL, { keys: [k('value', key)], arguments: [expected] })) === 1;
    },
    async acquireLock(key, owner, ttlMs) {
      return (await client.set(k('lock', key), owner, { condition: 'NX', expiration: { type: 'PX', value: ttlMs } })) === 'OK';
    },
    async releaseLock(key, owner) {
      await client.eval(DELETE_IF_EQUAL, { keys: [k('lock', key)], arguments: [owner] });
    },
    async getHash(key) {
      return { ...(await client.hGetAll(k('hash', key))) };
    },
    async setHash(key, fields) {
      if (Object.keys(fields).length > 0) await client.hSet(k('hash', key), fields);
    },
    async wipe() {
      const keys: string[] = [];
      for await (const batch of client.scanIterator({ MATCH: `${prefix}:*`, COUNT: 500 })) keys.push(...batch);
      if (keys.length > 0) await client.del(keys);
    },
    async close() {
      await client.quit();
    },
  };
}

/**
 * `kv` whose `method` throws on its next `times` calls (a store failure at that step); `fired`
 * counts the failures thrown, so a test can show its fault happened.
 */
export function failingOnce<M extends keyof KeyValueStore>(kv: KeyValueStore, method: M, times = 1): KeyValueStore & { fired: () => number; arm: () => void } {
  let left = 0;
  let fired = 0;
  const wrapped = Object.create(kv) as KeyValueStore & { fired: () => number; arm: () => void };
  (wrapped as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
    if (left > 0) {
      left--;
      fired++;
      throw new Error(`injected store failure in ${method}`);
    }
    return (kv[method] as (...a: unknown[]) => Promise<unknown>)(...args);
  };
  wrapped.fired = () => fired;
  wrapped.arm = () => {
    left = times;
  };
  return wrapped;
}
