import type { Fields, KeyValueStore } from './store';
import { TtlMap } from './ttl-map';

/** Small values, marks, locks and counters in process memory (one namespace). */
export class MemoryKeyValues implements KeyValueStore {
  private readonly seen: TtlMap<true>;
  private readonly values: TtlMap<string>;
  private readonly locks: TtlMap<string>;
  private readonly hashes = new Map<string, Fields>();

  constructor(protected readonly now: () => number) {
    this.seen = new TtlMap(now);
    this.values = new TtlMap(now);
    this.locks = new TtlMap(now);
  }

  /** Drops expired entries (they are also dropped lazily on read). */
  sweep(): void {
    for (const map of [this.seen, this.values, this.locks]) map.sweep();
  }

  protected inSeconds(seconds: number): number {
    return this.now() + seconds * 1000;
  }

  async firstSeen(key: string, ttlSeconds: number): Promise<boolean> {
    if (this.seen.has(key)) return false;
    this.seen.set(key, true, this.inSeconds(ttlSeconds));
    return true;
  }

  async forget(key: string): Promise<void> {
    this.seen.delete(key);
  }

  async getValue(key: string): Promise<string | null> {
    return this.values.get(key) ?? null;
  }

  async setValue(key: string, value: string, ttlMs?: number): Promise<void> {
    this.values.set(key, value, ttlMs === undefined ? null : this.now() + ttlMs);
  }

  async setValueIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.values.has(key)) return false;
    this.values.set(key, value, this.now() + ttlMs);
    return true;
  }

  async deleteValueIf(key: string, expected: string): Promise<boolean> {
    return this.values.get(key) === expected && this.values.delete(key);
  }

  async acquireLock(key: string, owner: string, ttlMs: number): Promise<boolean> {
    if (this.locks.has(key)) return false;
    this.locks.set(key, owner, this.now() + ttlMs);
    return true;
  }

  async releaseLock(key: string, owner: string): Promise<void> {
    if (this.locks.get(key) === owner) this.locks.delete(key);
  }

  async getHash(key: string): Promise<Fields> {
    return { ...this.hashes.get(key) };
  }

  async setHash(key: string, fields: Fields): Promise<void> {
    this.hashes.set(key, { ...this.hashes.get(key), ...fields });
  }
}
