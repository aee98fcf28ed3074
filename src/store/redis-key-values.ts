import type { RedisConnection } from './redis-connection';
import type { ValueKeys } from './redis-keys';
import { deleteIfEqual } from './scripts/delete-if-equal';
import type { Fields, KeyValueStore } from './store';

/** Small values, marks, locks and counters in one namespace (the deployment's, or an account's). */
export class RedisKeyValues implements KeyValueStore {
  constructor(
    protected readonly redis: RedisConnection,
    private readonly names: ValueKeys,
  ) {}

  async firstSeen(key: string, ttlSeconds: number): Promise<boolean> {
    const reply = await this.redis.call('firstSeen', (redis) =>
      redis.set(this.names.seen(key), '1', { condition: 'NX', expiration: { type: 'EX', value: ttlSeconds } }),
    );
    return reply === 'OK';
  }

  async forget(key: string): Promise<void> {
    await this.redis.call('forget', (redis) => redis.del(this.names.seen(key)));
  }

  async getValue(key: string): Promise<string | null> {
    return this.redis.call('getValue', (redis) => redis.get(this.names.value(key)));
  }

  async setValue(key: string, value: string, ttlMs?: number): Promise<void> {
    const expiration = ttlMs === undefined ? undefined : { type: 'PX' as const, value: ttlMs };
    await this.redis.call('setValue', (redis) => redis.set(this.names.value(key), value, { expiration }));
  }

  async setValueIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    const reply = await this.redis.call('setValueIfAbsent', (redis) =>
      redis.set(this.names.value(key), value, { condition: 'NX', expiration: { type: 'PX', value: ttlMs } }),
    );
    return reply === 'OK';
  }

  async deleteValueIf(key: string, expected: string): Promise<boolean> {
    return (await this.redis.run(deleteIfEqual, [this.names.value(key)], [expected])) === 1;
  }

  async acquireLock(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const reply = await this.redis.call('acquireLock', (redis) =>
      redis.set(this.names.lock(key), owner, { condition: 'NX', expiration: { type: 'PX', value: ttlMs } }),
    );
    return reply === 'OK';
  }

  async releaseLock(key: string, owner: string): Promise<void> {
    await this.redis.run(deleteIfEqual, [this.names.lock(key)], [owner]);
  }

  async getHash(key: string): Promise<Fields> {
    return { ...((await this.redis.call('getHash', (redis) => redis.hGetAll(this.names.hash(key)))) as Fields) };
  }

  async setHash(key: string, fields: Fields): Promise<void> {
    if (Object.keys(fields).length > 0) await this.redis.call('setHash', (redis) => redis.hSet(this.names.hash(key), fields));
  }
}
