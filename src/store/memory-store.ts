import { checkCreateFields, checkLease, recordExistsError } from './checks';
import type { CreateOptions, CreateResult, Fields, HistoryEntry, ParkedEntry, RecordMove, Store, StoredRecord, WindowState, WindowUse } from './store';
import { TtlMap } from './ttl-map';

export interface MemoryStoreOptions {
  /** Clock for TTLs (tests may inject one). Default `Date.now`. */
  now?: () => number;
  /** How often expired entries are swept (they are also dropped lazily on read). Default 60 s. */
  sweepIntervalMs?: number;
}

/** Redis orders equal scores by member bytes; JS `<` compares UTF-16 units, which differs. */
function byScoreThenMember(a: [string, number], b: [string, number]): number {
  return a[1] - b[1] || Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0]));
}

/**
 * The store in process memory, for demo mode and unit tests. Every method runs synchronously
 * between awaits, which makes each one atomic, as the Redis scripts are. One process only.
 */
export class MemoryStore implements Store {
  private readonly now: () => number;
  private readonly sweeper: NodeJS.Timeout;
  private readonly records: TtlMap<StoredRecord>;
  private readonly schedule = new Map<string, number>();
  private readonly idempotency: TtlMap<{ id: string; fingerprint: string }>;
  private readonly msgids: TtlMap<string>;
  private readonly earlyStatuses: TtlMap<string>;
  private readonly seen: TtlMap<true>;
  private readonly values: TtlMap<string>;
  private readonly locks: TtlMap<string>;
  private readonly hashes = new Map<string, Fields>();
  private readonly windows: TtlMap<WindowState>;
  private readonly pushes: TtlMap<'claimed' | 'handled'>;
  private readonly replies: TtlMap<string>;
  private readonly botReplies: TtlMap<string>;
  private readonly sets: TtlMap<Map<string, number>>;

  constructor(options: MemoryStoreOptions = {}) {
    const now = (this.now = options.now ?? Date.now);
    this.records = new TtlMap(now);
    this.idempotency = new TtlMap(now);
    this.msgids = new TtlMap(now);
    this.earlyStatuses = new TtlMap(now);
    this.seen = new TtlMap(now);
    this.values = new TtlMap(now);
    this.locks = new TtlMap(now);
    this.windows = new TtlMap(now);
    this.pushes = new TtlMap(now);
    this.replies = new TtlMap(now);
    this.botReplies = new TtlMap(now);
    this.sets = new TtlMap(now);
    this.sweeper = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 60_000);
    this.sweeper.unref(); // never keeps the process (or jest) alive
  }

  /** Drops every expired entry now (also runs on a timer). */
  sweep(): void {
    for (const map of [this.records, this.idempotency, this.msgids, this.earlyStatuses, this.seen, this.values,
      this.locks, this.windows, this.pushes, this.replies, this.botReplies, this.sets]) {
      map.sweep();
    }
  }

  private inSeconds(seconds: number): number {
    return this.now() + seconds * 1000;
  }

  // --- records ---------------------------------------------------------------------------------

  async create(id: string, fields: Fields, history: HistoryEntry, options: CreateOptions): Promise<CreateResult> {
    checkCreateFields(id, fields);
    const { idempotency } = options;
    if (idempotency) {
      const existing = this.idempotency.get(idempotency.key);
      if (existing) return { created: false, existingId: existing.id, fingerprint: existing.fingerprint };
    }
    if (this.records.has(id)) throw recordExistsError(id);
    const expiresAt = this.inSeconds(options.ttlSeconds);
    if (idempotency) {
      this.idempotency.set(idempotency.key, { id, fingerprint: idempotency.fingerprint }, expiresAt);
    }
    this.records.set(id, { fields: { ...fields }, history: [{ ...history }] }, expiresAt);
    if (options.dueAt !== undefined) this.schedule.set(id, options.dueAt);
    return { created: true };
  }

  async get(id: string): Promise<StoredRecord | null> {
    const record = this.records.get(id);
    return record ? { fields: { ...record.fields }, history: record.history.map((e) => ({ ...e })) } : null;
  }

  async move(id: string, move: RecordMove, unparkFrom?: string): Promise<boolean> {
    const record = this.records.get(id);
    if (!record || !move.from.includes(record.fields.status)) return false;
    for (const [field, value] of Object.entries(move.expect ?? {})) if ((record.fields[field] ?? '') !== value) return false;
    Object.assign(record.fields, move.set, { status: move.to });
    if (move.history) record.history.push({ ...move.history });
    if (move.dueAt === null) this.schedule.delete(id);
    else if (move.dueAt !== undefined) this.schedule.set(id, move.dueAt);
    if (unparkFrom !== undefined) await this.forgetParked(unparkFrom, id);
    return true;
  }

  async park(id: string, move: RecordMove, entry: ParkedEntry): Promise<boolean> {
    if (!(await this.move(id, move))) return false;
    const set = this.sets.get(entry.owner) ?? new Map<string, number>();
    set.set(id, entry.score);
    this.sets.set(entry.owner, set, this.inSeconds(entry.ttlSeconds));
    return true;
  }

  async releaseAsReply(id: string, move: RecordMove, owner: string, reply: { pushKey: string; text: string; ttlMs: number }): Promise<boolean> {
    if (!(await this.move(id, move, owner))) return false;
    this.replies.set(reply.pushKey, reply.text, this.now() + reply.ttlMs);
    return true;
  }

  async appendHistory(id: string, entry: HistoryEntry): Promise<void> {
    this.records.get(id)?.history.push({ ...entry });
  }

  // --- the due schedule ------------------------------------------------------------------------

  async claimDue(now: number, leaseMs: number, limit: number): Promise<string[]> {
    checkLease(leaseMs);
    const due = [...this.schedule].filter(([, at]) => at <= now).sort(byScoreThenMember);
    const claimed: string[] = [];
    for (const [id] of due) {
      if (claimed.length >= limit) break;
      if (!this.records.has(id)) {
        this.schedule.delete(id); // the record expired: nothing left to work on
        continue;
      }
      this.schedule.set(id, now + leaseMs);
      claimed.push(id);
    }
    return claimed;
  }

  async scheduleInfo(): Promise<{ size: number; nextDueAt: number | null }> {
    let nextDueAt: number | null = null;
    for (const at of this.schedule.values()) if (nextDueAt === null || at < nextDueAt) nextDueAt = at;
    return { size: this.schedule.size, nextDueAt };
  }

  // --- correlation -----------------------------------------------------------------------------

  async linkMsgid(msgid: string, id: string, ttlSeconds: number): Promise<string | null> {
    this.msgids.set(msgid, id, this.inSeconds(ttlSeconds));
    const early = this.earlyStatuses.get(msgid);
    this.earlyStatuses.delete(msgid);
    return early ?? null;
  }

  async resolveMsgid(msgid: string, status: string, ttlSeconds: number): Promise<string | null> {
    const id = this.msgids.get(msgid);
    if (id !== undefined) return id;
    if (!this.earlyStatuses.has(msgid)) this.earlyStatuses.set(msgid, status, this.inSeconds(ttlSeconds));
    return null;
  }

  // --- de-duplication, values, locks -----------------------------------------------------------

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

  // --- hashes and counters ---------------------------------------------------------------------

  async getHash(key: string): Promise<Fields> {
    return { ...this.hashes.get(key) };
  }

  async setHash(key: string, fields: Fields): Promise<void> {
    this.hashes.set(key, { ...this.hashes.get(key), ...fields });
  }

  async incrementHash(key: string, field: string, by = 1): Promise<number> {
    const hash = this.hashes.get(key) ?? {};
    const value = Number(hash[field] ?? 0) + by;
    this.hashes.set(key, { ...hash, [field]: String(value) });
    return value;
  }

  // --- customer-service windows -------------------------------------------------------------

  private windowKey = (user: string, kind: string) => `${kind}:${user}`;

  async openWindow(user: string, kind: string, quota: number, expiresAt: number, keepSeconds: number): Promise<void> {
    this.windows.set(this.windowKey(user, kind), { remaining: quota, expiresAt }, expiresAt + keepSeconds * 1000);
  }

  async takeFromWindow(user: string, kinds: readonly string[], now: number): Promise<{ use: WindowUse; kind?: string }> {
    let known = false;
    let valid = false;
    for (const kind of kinds) {
      const state = this.windows.get(this.windowKey(user, kind));
      if (!state) continue;
      known = true;
      if (state.expiresAt <= now) continue;
      valid = true;
      if (state.remaining > 0) {
        state.remaining -= 1;
        return { use: 'taken', kind };
      }
    }
    return { use: valid ? 'exhausted' : known ? 'expired' : 'unknown' };
  }

  async giveBackToWindow(user: string, kind: string): Promise<void> {
    const state = this.windows.get(this.windowKey(user, kind));
    if (state) state.remaining += 1;
  }

  async getWindow(user: string, kind: string): Promise<WindowState | null> {
    const state = this.windows.get(this.windowKey(user, kind));
    return state ? { ...state } : null;
  }

  async closeWindows(user: string, kinds: readonly string[], now: number, keepSeconds: number): Promise<void> {
    for (const kind of kinds) {
      const key = this.windowKey(user, kind);
      const state = this.windows.get(key);
      // a closed window is known: one never opened is recorded closed, not left unknown
      if (!state) this.windows.set(key, { remaining: 0, expiresAt: now }, now + keepSeconds * 1000);
      else {
        state.expiresAt = Math.min(state.expiresAt, now);
        this.windows.expireAt(key, now + keepSeconds * 1000);
      }
    }
  }

  // --- parked lists ----------------------------------------------------------------------------

  async parkedFor(owner: string, limit: number): Promise<string[]> {
    const set = this.sets.get(owner);
    if (!set || limit <= 0) return [];
    return [...set].sort(byScoreThenMember).slice(0, limit).map(([member]) => member);
  }

  async forgetParked(owner: string, id: string): Promise<void> {
    const set = this.sets.get(owner);
    if (set?.delete(id) && set.size === 0) this.sets.delete(owner); // as Redis drops empty keys
  }

  // --- push memory -----------------------------------------------------------------------------

  async firstSeenPush(pushKey: string, ttlSeconds: number): Promise<boolean> {
    if (this.pushes.has(pushKey)) return false;
    this.pushes.set(pushKey, 'claimed', this.inSeconds(ttlSeconds));
    return true;
  }

  async renewPushClaim(pushKey: string, ttlSeconds: number): Promise<void> {
    if (this.pushes.get(pushKey) === 'claimed') this.pushes.expireAt(pushKey, this.inSeconds(ttlSeconds));
  }

  async keepPushSeen(pushKey: string, ttlSeconds: number): Promise<void> {
    this.pushes.set(pushKey, 'handled', this.inSeconds(ttlSeconds));
  }

  async pushState(pushKey: string): Promise<'claimed' | 'handled' | null> {
    return this.pushes.get(pushKey) ?? null;
  }

  async forgetPush(pushKey: string): Promise<void> {
    this.pushes.delete(pushKey);
  }

  async replyFor(pushKey: string): Promise<string | null> {
    return this.replies.get(pushKey) ?? null;
  }

  async botReplyFor(pushKey: string): Promise<string | null> {
    return this.botReplies.get(pushKey) ?? null;
  }

  async rememberBotReply(pushKey: string, xml: string, ttlMs: number): Promise<void> {
    this.botReplies.set(pushKey, xml, this.now() + ttlMs);
  }

  // --- lifecycle -------------------------------------------------------------------------------

  async ping(): Promise<void> {}

  /** Memory is always there. */
  lastUnreachableAt(): number | null {
    return null;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }
}
