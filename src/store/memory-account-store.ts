import { checkCreateFields, recordExistsError } from './checks';
import type { BucketCount, ReadResolution, Tally } from './counter-buckets';
import { MemoryCounters } from './memory-counters';
import { MemoryKeyValues } from './memory-key-values';
import { newestFirst, soonestFirst } from './merged-page';
import type { MemoryWebhookStore } from './memory-webhook-store';
import type { RecordIds } from './record-ids';
import {
  CREATOR_FIELD,
  LINKED_AFTER_RECEIPT_SECONDS,
  type AccountStore,
  type CreateOptions,
  type CreateResult,
  type Fields,
  type HistoryEntry,
  type NewRecord,
  type MsgidLink,
  type MsgidReceipt,
  type ParkedEntry,
  type ReceiptApplied,
  type RecordMove,
  type SearchOptions,
  type SearchPage,
  type SearchPosition,
  type StoredRecord,
  type WindowState,
  type WindowUse,
} from './store';
import { TtlMap } from './ttl-map';
import { settledValue, type Settled } from '../settled';

/** Redis orders equal scores by member bytes; JS `<` compares UTF-16 units, which differs. */
function byScoreThenMember(a: [string, number], b: [string, number]): number {
  return a[1] - b[1] || Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0]));
}

/** A key of two free-form parts (user and push key, user and window kind) that cannot collide. */
const pair = (a: string, b: string) => JSON.stringify([a, b]);

/**
 * One account's part of the memory store. It keys msgids by the user's shard, as Redis does, so
 * both stores behave the same.
 */
export class MemoryAccountStore extends MemoryKeyValues implements AccountStore {
  private readonly records: TtlMap<StoredRecord>;
  private readonly schedule = new Map<string, number>();
  private readonly idempotency: TtlMap<{ id: string; fingerprint: string }>;
  private readonly msgids: TtlMap<string>;
  private readonly earlyStatuses: TtlMap<string>;
  private readonly windows: TtlMap<WindowState>;
  private readonly pushes: TtlMap<'claimed' | 'handled'>;
  private readonly replies: TtlMap<string>;
  private readonly botReplies: TtlMap<string>;
  private readonly parked: TtlMap<Map<string, number>>;
  /** Search term → record id → when listed. */
  private readonly terms: TtlMap<Map<string, number>>;
  /** Parked record id → when its park ends (every owner's). */
  private readonly parkedIndex = new Map<string, number>();
  private readonly counters: MemoryCounters;

  constructor(
    readonly account: string,
    private readonly ids: RecordIds,
    now: () => number,
    /** Where the moves' events go. */
    private readonly webhooks: Pick<MemoryWebhookStore, 'recordMoved'>,
  ) {
    super(now);
    this.records = new TtlMap(now);
    this.idempotency = new TtlMap(now);
    this.msgids = new TtlMap(now);
    this.earlyStatuses = new TtlMap(now);
    this.windows = new TtlMap(now);
    this.pushes = new TtlMap(now);
    this.replies = new TtlMap(now);
    this.botReplies = new TtlMap(now);
    this.parked = new TtlMap(now);
    this.terms = new TtlMap(now);
    this.counters = new MemoryCounters(now);
  }

  override sweep(): void {
    super.sweep();
    for (const map of [this.records, this.idempotency, this.msgids, this.earlyStatuses, this.windows, this.pushes, this.replies, this.botReplies, this.parked, this.terms]) {
      map.sweep();
    }
    for (const id of this.parkedIndex.keys()) if (!this.records.has(id)) this.parkedIndex.delete(id);
    this.counters.sweep();
  }

  newId(user: string): string {
    return this.ids.newId(this.account, user);
  }

  private shardOfRecord(id: string): number {
    return this.ids.shardOfRecord(this.account, id);
  }

  /** As in Redis, a parked list is kept with its records: the owner must be the record's user. */
  private checkOwner(id: string, owner: string): void {
    if (this.ids.shardOfUser(owner) !== this.shardOfRecord(id)) throw new TypeError(`record ${id} is not of user "${owner}" (the owner of a parked record is its user)`);
  }

  // --- records ---------------------------------------------------------------------------------

  async create(id: string, fields: Fields, history: HistoryEntry, options: CreateOptions): Promise<CreateResult> {
    return settledValue((await this.createMany([{ id, fields, history, options }]))[0]);
  }

  /** One after the other, as the Redis store's keys and records are taken and written in order. */
  async createMany(records: readonly NewRecord[]): Promise<Settled<CreateResult>[]> {
    return records.map(({ id, fields, history, options, data }): Settled<CreateResult> => {
      try {
        checkCreateFields(id, fields, data);
        return { status: 'fulfilled', value: this.createOne(id, data === undefined ? fields : { ...fields, data: JSON.stringify(data) }, history, options) };
      } catch (reason) {
        return { status: 'rejected', reason };
      }
    });
  }

  /** One record of createMany, its fields checked there (with `data` merged into them). */
  private createOne(id: string, fields: Fields, history: HistoryEntry, options: CreateOptions): CreateResult {
    this.shardOfRecord(id);
    const { idempotency } = options;
    if (idempotency) {
      const existing = this.idempotency.get(idempotency.key);
      if (existing) {
        // the Redis store's repair of a request cut short between key and record, for the same semantics
        if (existing.fingerprint === idempotency.fingerprint) this.write(existing.id, fields, history, options);
        return { created: false, existingId: existing.id, fingerprint: existing.fingerprint };
      }
    }
    if (this.records.has(id)) throw recordExistsError(id);
    if (idempotency) this.idempotency.set(idempotency.key, { id, fingerprint: idempotency.fingerprint }, this.inSeconds(options.ttlSeconds));
    this.write(id, fields, history, options);
    return { created: true };
  }

  private write(id: string, fields: Fields, history: HistoryEntry, options: CreateOptions): void {
    if (this.records.has(id)) return;
    this.records.set(id, { fields: { ...fields }, history: [{ ...history }] }, this.inSeconds(options.ttlSeconds));
    if (options.dueAt !== undefined) this.schedule.set(id, options.dueAt);
    if (options.tally) this.counters.tally(options.tally, this.subjectOf(options.tally, fields), undefined);
    if (options.index) this.list(id, options.index, options.ttlSeconds);
  }

  /** Lists a record under its search terms, each kept as long as its newest record. */
  private list(id: string, index: NonNullable<CreateOptions['index']>, ttlSeconds: number): void {
    for (const term of index.terms) {
      const listed = this.terms.get(term) ?? new Map<string, number>();
      // as in Redis: entries older than the retention have lost their records
      for (const [old, at] of listed) if (at < index.at - ttlSeconds * 1000) listed.delete(old);
      listed.set(id, index.at);
      this.terms.set(term, listed, this.inSeconds(ttlSeconds));
    }
  }

  async get(id: string): Promise<StoredRecord | null> {
    this.shardOfRecord(id);
    return this.copyOf(id) ?? null;
  }

  /** A copy of the record, as a read hands it out. */
  private copyOf(id: string): StoredRecord | undefined {
    const record = this.records.get(id);
    return record && { fields: { ...record.fields }, history: record.history.map((e) => ({ ...e })) };
  }

  async move(id: string, move: RecordMove, unparkFrom?: string): Promise<boolean> {
    this.shardOfRecord(id);
    if (unparkFrom !== undefined) this.checkOwner(id, unparkFrom);
    const record = this.records.get(id);
    if (!record || !move.from.includes(record.fields.status)) return false;
    for (const [field, value] of Object.entries(move.expect ?? {})) if ((record.fields[field] ?? '') !== value) return false;
    const left = record.fields.status;
    Object.assign(record.fields, move.set, { status: move.to });
    if (move.tally) this.counters.tally(move.tally, this.subjectOf(move.tally, record.fields), left);
    if (move.history) record.history.push({ ...move.history });
    if (move.event) this.webhooks.recordMoved(this.account, id, move.event, record.fields, record.history);
    if (move.dueAt === null) this.schedule.delete(id);
    else if (move.dueAt !== undefined) this.schedule.set(id, move.dueAt);
    if (unparkFrom !== undefined) {
      await this.forgetParked(unparkFrom, id);
      this.parkedIndex.delete(id);
    }
    return true;
  }

  async park(id: string, move: RecordMove, entry: ParkedEntry): Promise<boolean> {
    this.checkOwner(id, entry.owner);
    if (!(await this.move(id, move))) return false;
    const list = this.parked.get(entry.owner) ?? new Map<string, number>();
    list.set(id, entry.score);
    this.parked.set(entry.owner, list, this.inSeconds(entry.ttlSeconds));
    this.parkedIndex.set(id, entry.until);
    return true;
  }

  async releaseAsReply(id: string, move: RecordMove, owner: string, reply: { pushKey: string; text: string; ttlMs: number }): Promise<boolean> {
    if (!(await this.move(id, move, owner))) return false;
    this.replies.set(pair(owner, reply.pushKey), reply.text, this.now() + reply.ttlMs);
    return true;
  }

  async moveLinkingMsgid(id: string, move: RecordMove, link: MsgidLink): Promise<{ moved: boolean; early: string | null }> {
    const early = await this.linkMsgid(link.msgid, id, link.ttlSeconds);
    return { moved: await this.move(id, move), early };
  }

  async appendHistory(id: string, entry: HistoryEntry): Promise<void> {
    this.shardOfRecord(id);
    this.records.get(id)?.history.push({ ...entry });
  }

  // --- search ---------------------------------------------------------------------------------

  async findByTerm(term: string, options: SearchOptions & { user?: string }): Promise<SearchPage> {
    return this.search(this.terms.get(term) ?? new Map(), newestFirst, options);
  }

  async findParked(options: SearchOptions): Promise<SearchPage> {
    return this.search(this.parkedIndex, soonestFirst, options);
  }

  /** The whole index at once (one process, no shards): the page after `after`, of the records still there that the creators made. */
  private search(index: ReadonlyMap<string, number>, order: (a: SearchPosition, b: SearchPosition) => number, options: SearchOptions): SearchPage {
    const { after, creators, limit } = options;
    const visible = (id: string) => {
      const creator = this.records.get(id)?.fields[CREATOR_FIELD];
      return this.records.has(id) && (creators === undefined || creator === undefined || creators.includes(creator));
    };
    const found = [...index]
      .map(([id, score]) => ({ id, score }))
      .filter((p) => (after === undefined || order(p, after) > 0) && visible(p.id))
      .sort(order);
    const ids = found.slice(0, limit).map((p) => p.id);
    return { ids, next: found.length > limit ? found[limit - 1] : null };
  }

  // --- counters --------------------------------------------------------------------------------

  /** The tally's subject: as given, or the record's field (as the Redis script reads it). */
  private subjectOf(tally: Tally, fields: Fields): string {
    return typeof tally.subject === 'string' ? tally.subject : (fields[tally.subject.field] ?? '');
  }

  readCounters(resolution: ReadResolution, from: number, to: number): Promise<BucketCount[]> {
    return this.counters.readCounters(resolution, from, to);
  }

  // --- the due schedule (claimed across accounts by MemoryStore) -------------------------------

  /** Ids due at `now` with their due times, oldest first; expired records leave the schedule. */
  dueEntries(now: number): [string, number][] {
    const due: [string, number][] = [];
    for (const [id, at] of this.schedule) {
      if (at > now) continue;
      if (this.records.has(id)) due.push([id, at]);
      else this.schedule.delete(id); // the record expired: nothing left to work on
    }
    return due.sort(byScoreThenMember);
  }

  /** Leases a claimed record until `until`; the record as it is now. */
  lease(id: string, until: number): StoredRecord | undefined {
    this.schedule.set(id, until);
    return this.copyOf(id);
  }

  scheduleSize(): number {
    return this.schedule.size;
  }

  earliestDue(): number | null {
    let earliest: number | null = null;
    for (const at of this.schedule.values()) if (earliest === null || at < earliest) earliest = at;
    return earliest;
  }

  async allDueNow(now: number): Promise<number> {
    for (const id of this.schedule.keys()) this.schedule.set(id, now);
    return this.schedule.size;
  }

  // --- correlation -----------------------------------------------------------------------------

  async linkMsgid(msgid: string, id: string, ttlSeconds: number): Promise<string | null> {
    const key = pair(String(this.shardOfRecord(id)), msgid);
    this.msgids.set(key, id, this.inSeconds(ttlSeconds));
    return this.earlyStatuses.get(key) ?? null; // kept until it expires, as in Redis
  }

  /** One after the other, as the script applies them: a repeat of a receipt in the same call finds it handled. */
  applyReceipts(receipts: readonly MsgidReceipt[]): Promise<ReceiptApplied>[] {
    let previous: Promise<unknown> = Promise.resolve();
    return receipts.map((r) => {
      const applied = previous.then(() => this.applyReceipt(r));
      previous = applied.catch(() => undefined);
      return applied;
    });
  }

  /** As the Redis script: nothing in it waits, so no other call runs in the middle of it. */
  private async applyReceipt(r: MsgidReceipt): Promise<ReceiptApplied> {
    const seen = pair(r.user, r.pushKey);
    if (this.pushes.get(seen) === 'handled') return { result: 'duplicate' };
    const key = pair(String(this.ids.shardOfUser(r.user)), r.msgid);
    const id = this.msgids.get(key);
    let applied: ReceiptApplied;
    if (id === undefined) {
      if (!this.earlyStatuses.has(key)) this.earlyStatuses.set(key, r.status, this.inSeconds(r.stashSeconds));
      applied = { result: 'stashed' };
    } else {
      const record = this.records.get(id);
      const note = (detail: string) => record?.history.push({ at: r.notes.at, status: record.fields.status, detail });
      if (!record) applied = { result: 'gone', id };
      else if (record.fields.openid !== r.user) {
        note(r.notes.foreign);
        applied = { result: 'foreign', id };
      } else {
        if (await this.move(id, r.move)) {
          applied = { result: 'moved', id };
        } else {
          note(r.notes.late);
          applied = { result: 'late', id };
        }
        // it reached its record: the push mark and the link are kept a short while only (as in Redis)
        this.msgids.expireAt(key, this.inSeconds(LINKED_AFTER_RECEIPT_SECONDS));
        this.pushes.set(seen, 'handled', this.inSeconds(LINKED_AFTER_RECEIPT_SECONDS));
        return applied;
      }
    }
    this.pushes.set(seen, 'handled', this.inSeconds(r.seenSeconds));
    return applied;
  }

  // --- customer-service windows ----------------------------------------------------------------

  async openWindow(user: string, kind: string, quota: number, expiresAt: number, keepSeconds: number): Promise<void> {
    this.windows.set(pair(user, kind), { remaining: quota, expiresAt }, expiresAt + keepSeconds * 1000);
  }

  async takeFromWindow(user: string, kinds: readonly string[], now: number): Promise<{ use: WindowUse; kind?: string }> {
    let known = false;
    let valid = false;
    for (const kind of kinds) {
      const state = this.windows.get(pair(user, kind));
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
    const state = this.windows.get(pair(user, kind));
    if (state) state.remaining += 1;
  }

  async getWindow(user: string, kind: string): Promise<WindowState | null> {
    const state = this.windows.get(pair(user, kind));
    return state ? { ...state } : null;
  }

  async closeWindows(user: string, kinds: readonly string[], now: number, keepSeconds: number): Promise<void> {
    for (const kind of kinds) {
      const key = pair(user, kind);
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
    const list = this.parked.get(owner);
    if (!list || limit <= 0) return [];
    return [...list].sort(byScoreThenMember).slice(0, limit).map(([member]) => member);
  }

  async forgetParked(owner: string, id: string): Promise<void> {
    const list = this.parked.get(owner);
    if (list?.delete(id) && list.size === 0) this.parked.delete(owner); // as Redis drops empty keys
  }

  // --- push memory -----------------------------------------------------------------------------

  async firstSeenPush(user: string, pushKey: string, ttlSeconds: number): Promise<boolean> {
    const key = pair(user, pushKey);
    if (this.pushes.has(key)) return false;
    this.pushes.set(key, 'claimed', this.inSeconds(ttlSeconds));
    return true;
  }

  async renewPushClaim(user: string, pushKey: string, ttlSeconds: number): Promise<void> {
    const key = pair(user, pushKey);
    if (this.pushes.get(key) === 'claimed') this.pushes.expireAt(key, this.inSeconds(ttlSeconds));
  }

  async keepPushSeen(user: string, pushKey: string, ttlSeconds: number): Promise<void> {
    this.pushes.set(pair(user, pushKey), 'handled', this.inSeconds(ttlSeconds));
  }

  async pushState(user: string, pushKey: string): Promise<'claimed' | 'handled' | null> {
    return this.pushes.get(pair(user, pushKey)) ?? null;
  }

  async forgetPush(user: string, pushKey: string): Promise<void> {
    this.pushes.delete(pair(user, pushKey));
  }

  async replyFor(user: string, pushKey: string): Promise<string | null> {
    return this.replies.get(pair(user, pushKey)) ?? null;
  }

  async botReplyFor(user: string, pushKey: string): Promise<string | null> {
    return this.botReplies.get(pair(user, pushKey)) ?? null;
  }

  async rememberBotReply(user: string, pushKey: string, xml: string, ttlMs: number): Promise<void> {
    this.botReplies.set(pair(user, pushKey), xml, this.now() + ttlMs);
  }
}
