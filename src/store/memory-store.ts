import { checkLease } from './checks';
import { rotated } from './rotated';
import { MemoryAccountStore } from './memory-account-store';
import { MemoryCounters } from './memory-counters';
import { MemoryKeyValues } from './memory-key-values';
import { MemoryWebhookStore } from './memory-webhook-store';
import { checkAccount, DEFAULT_SHARDS_PER_ACCOUNT, RecordIds } from './record-ids';
import type { AccountStore, DueWork, Store } from './store';

export interface MemoryStoreOptions {
  /** Clock for TTLs (tests may inject one). Default `Date.now`. */
  now?: () => number;
  /** How often expired entries are swept (they are also dropped lazily on read). Default 60 s. */
  sweepIntervalMs?: number;
  /** As for the Redis store (ids carry the user's shard). Default 8. */
  shardsPerAccount?: number;
}

/**
 * The store in process memory, for demo mode and unit tests. Every method runs synchronously
 * between awaits, which makes each one atomic, as the Redis scripts are. One process only.
 */
export class MemoryStore implements Store {
  readonly deployment: MemoryKeyValues;
  readonly webhooks: MemoryWebhookStore;
  readonly counters: MemoryCounters;
  private readonly now: () => number;
  private readonly ids: RecordIds;
  private readonly accounts = new Map<string, MemoryAccountStore>();
  /** Counts claims, to rotate which account is served first. */
  private turn = 0;
  private readonly sweeper: NodeJS.Timeout;

  constructor(options: MemoryStoreOptions = {}) {
    this.now = options.now ?? Date.now;
    this.ids = new RecordIds(options.shardsPerAccount ?? DEFAULT_SHARDS_PER_ACCOUNT);
    this.deployment = new MemoryKeyValues(this.now);
    this.webhooks = new MemoryWebhookStore(this.now);
    this.counters = new MemoryCounters(this.now);
    this.sweeper = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 60_000);
    this.sweeper.unref(); // never keeps the process (or jest) alive
  }

  /** Drops every expired entry now (also runs on a timer). */
  sweep(): void {
    this.deployment.sweep();
    this.webhooks.sweep();
    this.counters.sweep();
    for (const account of this.accounts.values()) account.sweep();
  }

  forAccount(appid: string): AccountStore {
    checkAccount(appid);
    let account = this.accounts.get(appid);
    if (!account) this.accounts.set(appid, (account = new MemoryAccountStore(appid, this.ids, this.now, this.webhooks)));
    return account;
  }

  accountOfId(id: string): string | null {
    return this.ids.parse(id)?.account ?? null;
  }

  /**
   * Round robin over the accounts with due work, oldest first within each, so `limit` is shared
   * evenly and what one account leaves unused goes to the others.
   */
  async claimDue(now: number, leaseMs: number, limit: number): Promise<DueWork[]> {
    checkLease(leaseMs);
    const oldestFirst = [...this.accounts.values()]
      .map((account) => ({ account, due: account.dueEntries(now) }))
      .filter(({ due }) => due.length > 0)
      .sort((a, b) => a.due[0][1] - b.due[0][1]);
    // as the Redis store: a different account is served first on every claim
    const queues = rotated(oldestFirst, this.turn++);
    const claimed: DueWork[] = [];
    for (let round = 0; claimed.length < limit && queues.some(({ due }) => round < due.length); round++) {
      for (const { account, due } of queues) {
        if (claimed.length >= limit) break;
        if (round >= due.length) continue;
        const [id] = due[round];
        claimed.push({ account: account.account, id, record: account.lease(id, now + leaseMs) });
      }
    }
    return claimed;
  }

  async scheduleInfo(): Promise<{ size: number; nextDueAt: number | null }> {
    let size = 0;
    let nextDueAt: number | null = null;
    for (const account of this.accounts.values()) {
      size += account.scheduleSize();
      const earliest = account.earliestDue();
      if (earliest !== null && (nextDueAt === null || earliest < nextDueAt)) nextDueAt = earliest;
    }
    return { size, nextDueAt };
  }

  async ping(): Promise<void> {}

  /** Memory is always there. */
  lastUnreachableAt(): number | null {
    return null;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }
}
