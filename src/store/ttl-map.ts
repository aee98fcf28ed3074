/**
 * A map whose entries may expire, for the in-memory store. Expired entries are dropped lazily on
 * access and by `sweep()`, so reads never see them even when no sweep has run yet.
 */
export class TtlMap<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number | null }>();

  constructor(private readonly now: () => number) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== null && entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** `expiresAt` null keeps the entry until deleted. */
  set(key: string, value: V, expiresAt: number | null): void {
    this.entries.set(key, { value, expiresAt });
  }

  /** Changes the expiry of a live entry; no-op when absent. */
  expireAt(key: string, expiresAt: number | null): void {
    const value = this.get(key);
    if (value !== undefined) this.entries.set(key, { value, expiresAt });
  }

  delete(key: string): boolean {
    return this.entries.delete(key);
  }

  sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt !== null && entry.expiresAt <= now) this.entries.delete(key);
    }
  }
}
