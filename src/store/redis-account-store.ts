import { checkCreateFields, recordExistsError } from './checks';
import { groupBy } from './group-by';
import type { BucketCount, ReadResolution, Tally } from './counter-buckets';
import { mergePages, newestFirst, soonestFirst } from './merged-page';
import { globalId, localId, type RecordIds } from './record-ids';
import { readCounters, tallyArgs, tallyKeys } from './redis-counters';
import type { RedisConnection } from './redis-connection';
import type { RedisDueSchedule } from './redis-due-schedule';
import type { RedisOutboxes } from './redis-outboxes';
import type { ScriptBatches } from './script-batches';
import { RedisKeyValues } from './redis-key-values';
import { checkFieldNames, decodeRecord, encodeLine, firstLine, newRecordShape, type FirstLine } from './redis-record-codec';
import { termPart, type AccountKeys, type RedisKeys, type ShardKeys } from './redis-keys';
import { closeWindows } from './scripts/close-windows';
import { createRecords } from './scripts/create';
import { runEachItem } from './scripts/each-item';
import { applyReceipts } from './scripts/apply-receipts';
import { getRecord } from './scripts/get-record';
import { appendHistory } from './scripts/history';
import { linkMsgid, linkMsgidsAndMoves } from './scripts/link-msgid';
import { openWindow } from './scripts/open-window';
import { moveRecords, parkRecord, releaseRecordAsReply } from './scripts/record-move';
import { renewClaim } from './scripts/renew-claim';
import { searchIndex } from './scripts/search-index';
import { giveBackToWindow } from './scripts/return-window';
import { takeFromWindow } from './scripts/take-window';
import { takeIdempotencyKeys } from './scripts/take-idempotency-keys';
import {
  CREATOR_FIELD,
  LINKED_AFTER_RECEIPT_SECONDS,
  type AccountStore,
  type CreateOptions,
  type CreateResult,
  type Fields,
  type HistoryEntry,
  type MsgidLink,
  type MsgidReceipt,
  type NewRecord,
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
import { newEventId } from './webhook-store';
import { settledValue, type Settled } from '../settled';

/** field, value, field, value, ... appended to `to` (a loop: Object.entries().flat() costs several times more, per record of a batch). */
function flatten(fields: Fields, to: string[] = []): string[] {
  for (const field in fields) to.push(field, fields[field]);
  return to;
}

/** A record createMany writes: record `i` of the call under `id`, and what its creation answers. */
interface RecordWrite {
  i: number;
  id: string;
  shard: number;
  answer: CreateResult;
  /** The record being there already is an error (no idempotency key said it may be). */
  existsIsError: boolean;
}

/**
 * What createRecords (scripts/create.ts) takes once for the records it creates: KEYS, and ARGV from
 * ARGV[2] on (key prefixes, expiry, listing time, the index's cut-off, the tally). Records that
 * differ in these (see createTogether) go in different calls.
 */
function createShared(keys: ShardKeys, account: string, { options: { index, ttlSeconds, tally } }: NewRecord): { keys: string[]; args: string[] } {
  const listedAt = index ? index.at : 0;
  return {
    keys: [keys.due, ...tallyKeys(keys, tally)],
    args: [keys.record(''), `.${account}`, keys.searchTerm(''), String(ttlSeconds), String(listedAt), String(listedAt - ttlSeconds * 1000), ...tallyArgs(tally)],
  };
}

/**
 * Records of one shard with the same value here can be created in one call: createShared is the
 * same for them. `tallies` keeps the tallies written as text so far (by object: the records of a
 * call usually share a few).
 */
function createTogether({ options: { index, ttlSeconds, tally } }: NewRecord, tallies: Map<Tally, string>): string {
  let text = tally === undefined ? '' : tallies.get(tally);
  if (text === undefined) tallies.set(tally!, (text = JSON.stringify(tally)));
  return `${ttlSeconds}|${index?.at}|${text}`;
}

/**
 * A record as an item of createRecords: local id, first history line, due time, search terms
 * (count, then key parts), fields. `lines` keeps the first lines encoded so far (by entry: records created
 * together often share theirs).
 */
function createItem({ id, fields, history, options: { dueAt, index }, data }: NewRecord, lines: Map<HistoryEntry, FirstLine>): Array<string | number> {
  const terms = index ? index.terms : [];
  const item: Array<string | number> = [localId(id), '', dueAt === undefined ? '' : String(dueAt), terms.length];
  for (const term of terms) item.push(termPart(term));
  let first = lines.get(history);
  if (first === undefined) lines.set(history, (first = firstLine(history)));
  item[1] = newRecordShape(fields, first, item, data);
  return item;
}

/** What a creation answers (one object for every record: answers are only read). */
const CREATED: CreateResult = { created: true };

/** A search looks at no more than this many index entries per shard and call (records of other clients are skipped). */
const SEARCH_SCAN_LIMIT = 2000;

/**
 * One account's part of the Redis store (a view: no state of its own). A record's keys are in its
 * user's shard, named by the id; everything else of a user is in the shard of the user's openid.
 */
export class RedisAccountStore extends RedisKeyValues implements AccountStore {
  private readonly accountKeys: AccountKeys;

  constructor(
    redis: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly ids: RecordIds,
    private readonly schedule: RedisDueSchedule,
    private readonly outboxes: RedisOutboxes,
    private readonly batches: ScriptBatches,
    readonly account: string,
  ) {
    const accountKeys = keys.account(account);
    super(redis, accountKeys);
    this.accountKeys = accountKeys;
  }

  newId(user: string): string {
    return this.ids.newId(this.account, user);
  }

  private shardOfRecord(id: string): number {
    return this.ids.shardOfRecord(this.account, id);
  }

  private recordShard(id: string): ShardKeys {
    return this.keys.shard(this.account, this.shardOfRecord(id));
  }

  private userShard(user: string): ShardKeys {
    return this.keys.shard(this.account, this.ids.shardOfUser(user));
  }

  /** The owner's parked list and replies are used with the record in one script: they must share its shard. */
  private ownerShard(id: string, owner: string): ShardKeys {
    const shard = this.shardOfRecord(id);
    if (this.ids.shardOfUser(owner) !== shard) throw new TypeError(`record ${id} is not of user "${owner}" (the owner of a parked record is its user)`);
    return this.keys.shard(this.account, shard);
  }

  // --- records ---------------------------------------------------------------------------------

  async create(id: string, fields: Fields, history: HistoryEntry, options: CreateOptions): Promise<CreateResult> {
    return settledValue((await this.createMany([{ id, fields, history, options }]))[0]);
  }

  /**
   * With idempotency keys, two steps (the keys are under the account's tag, the records under their
   * users' shards: other slots), each safe to repeat: the keys are taken with SET NX, all in one
   * script, then the records are written, one script per shard. A key found taken names the record
   * of an earlier request; when that request had the same fingerprint and its record is missing
   * (its instance died between the steps), the record is written now under the earlier id, so a
   * retry completes it. A failed step fails only the records it was for.
   */
  async createMany(records: readonly NewRecord[]): Promise<Settled<CreateResult>[]> {
    const outcomes: Settled<CreateResult>[] = new Array(records.length);
    const fail = (indexes: readonly number[], reason: unknown) => indexes.forEach((i) => (outcomes[i] = { status: 'rejected', reason }));
    const writes: RecordWrite[] = [];
    const keyed: number[] = [];
    const valid: number[] = [];
    const shards: number[] = new Array(records.length);
    records.forEach(({ id, fields, options, data }, i) => {
      try {
        checkCreateFields(id, fields, data);
        checkFieldNames(fields);
        shards[i] = this.shardOfRecord(id);
      } catch (err) {
        return fail([i], err);
      }
      valid.push(i);
      if (options.idempotency) keyed.push(i);
      else writes.push({ i, id, shard: shards[i], answer: CREATED, existsIsError: true });
    });
    try {
      await this.schedule.listAccount(this.account);
    } catch (err) {
      fail(valid, err);
      return outcomes;
    }
    if (keyed.length > 0) {
      try {
        const held = await this.takeIdempotencyKeys(keyed.map((i) => records[i]));
        keyed.forEach((i, j) => {
          const taken = held[j];
          // With the key taken by this call, a record already there was written by a retry that
          // found the key before this write: the same request, done.
          if (taken === null) return writes.push({ i, id: records[i].id, shard: shards[i], answer: CREATED, existsIsError: false });
          const existing = JSON.parse(taken) as { id: string; fingerprint: string };
          const answer: CreateResult = { created: false, existingId: existing.id, fingerprint: existing.fingerprint };
          if (existing.fingerprint === records[i].options.idempotency!.fingerprint) writes.push({ i, id: existing.id, shard: this.shardOfRecord(existing.id), answer, existsIsError: false });
          else outcomes[i] = { status: 'fulfilled', value: answer };
        });
      } catch (err) {
        fail(keyed, err);
      }
    }
    // in the order given, so that of two writes of one id the first one's record is kept
    writes.sort((a, b) => a.i - b.i);
    await Promise.all(
      [...groupBy(writes, (w) => w.shard)].map(async ([shard, group]) => {
        try {
          const created = await this.writeRecords(shard, group.map((w) => (w.id === records[w.i].id ? records[w.i] : { ...records[w.i], id: w.id })));
          group.forEach((w, j) => {
            outcomes[w.i] = !created[j] && w.existsIsError ? { status: 'rejected', reason: recordExistsError(w.id) } : { status: 'fulfilled', value: w.answer };
          });
        } catch (err) {
          fail(group.map((w) => w.i), err);
        }
      }),
    );
    return outcomes;
  }

  /** Takes each record's idempotency key unless it is held: what holds it (null: taken now), in order (one script). */
  private async takeIdempotencyKeys(records: readonly NewRecord[]): Promise<Array<string | null>> {
    const prefix = this.accountKeys.idempotency('');
    const items = records.map(({ id, options: { idempotency, ttlSeconds } }) => [idempotency!.key, JSON.stringify({ id, fingerprint: idempotency!.fingerprint }), String(ttlSeconds)]);
    return (await this.redis.run(takeIdempotencyKeys, [prefix + items[0][0]], [prefix, JSON.stringify(items)])) as Array<string | null>;
  }

  /**
   * The records of one shard, one script for those that share what it takes once (see
   * createShared: usually all of them), then one hint to the due index (see ClaimedIndex); whether
   * each was created (false: it existed). The scripts run one after the other, so that of two
   * writes of one id the first one's record is kept.
   */
  private async writeRecords(shard: number, records: readonly NewRecord[]): Promise<boolean[]> {
    const keys = this.keys.shard(this.account, shard);
    const created: boolean[] = new Array(records.length);
    let earliestDue = Infinity;
    const lines = new Map<HistoryEntry, FirstLine>();
    const tallies = new Map<Tally, string>();
    for (const run of groupBy([...records.keys()], (j) => createTogether(records[j], tallies)).values()) {
      const shared = createShared(keys, this.account, records[run[0]]);
      const items = JSON.stringify(run.map((j) => createItem(records[j], lines)));
      const replies = (await this.redis.run(createRecords, shared.keys, [items, ...shared.args])) as number[];
      run.forEach((j, k) => {
        created[j] = replies[k] === 1;
        const { dueAt } = records[j].options;
        if (created[j] && dueAt !== undefined) earliestDue = Math.min(earliestDue, dueAt);
      });
    }
    if (earliestDue !== Infinity) this.schedule.hint(this.account, shard, earliestDue);
    return created;
  }

  async get(id: string): Promise<StoredRecord | null> {
    const keys = this.recordShard(id);
    const [flat, lines] = (await this.redis.run(getRecord, [keys.record(id), keys.history(id)], [])) as [string[], string[]];
    return decodeRecord(flat, lines);
  }

  /**
   * KEYS and ARGV of a record move (see scripts/record-move.ts), then the script's own. Its counts
   * go to the counters of `countIn` (default: its own shard's; reads sum every shard's).
   */
  private moveArgs(keys: ShardKeys, id: string, move: RecordMove, countIn: ShardKeys = keys): { keys: string[]; args: string[] } {
    const { from, to, set = {}, expect = {}, history, dueAt, event, tally } = move;
    checkFieldNames(set);
    checkFieldNames(expect);
    const expected = flatten(expect);
    const fields = flatten(set);
    const recorded = event ? [newEventId(event.at), event.type, String(event.at), this.account, ...event.fields] : [];
    return {
      keys: [keys.record(id), keys.history(id), keys.due, keys.outbox, ...tallyKeys(countIn, tally)],
      args: [
        id,
        to,
        history ? encodeLine(history) : '',
        dueAt === undefined ? '' : dueAt === null ? 'off' : String(dueAt),
        String(from.length),
        ...from,
        String(expected.length),
        ...expected,
        String(fields.length),
        ...fields,
        String(recorded.length),
        ...recorded,
        ...tallyArgs(tally),
      ],
    };
  }

  /**
   * The hints after moves that happened, each of a record of its shard: a record put on the
   * schedule to the due index, an event to the outbox index; one per shard and index, at the
   * earliest time (see ClaimedIndex.hint).
   */
  private hintAfter(moves: ReadonlyArray<readonly [shard: number, move: RecordMove]>): void {
    const due = new Map<number, number>();
    const events = new Map<number, number>();
    for (const [shard, { dueAt, event }] of moves) {
      if (typeof dueAt === 'number') due.set(shard, Math.min(dueAt, due.get(shard) ?? dueAt));
      if (event) events.set(shard, Math.min(event.at, events.get(shard) ?? event.at));
    }
    for (const [shard, at] of due) this.schedule.hint(this.account, shard, at);
    for (const [shard, at] of events) this.outboxes.hint(this.keys.shard(this.account, shard).outbox, at);
  }

  /** After a move's script: whether it moved (its hints given). */
  private moved(reply: unknown, id: string, move: RecordMove): boolean {
    if (reply !== 1) return false;
    this.hintAfter([[this.shardOfRecord(id), move]]);
    return true;
  }

  async move(id: string, move: RecordMove, unparkFrom?: string): Promise<boolean> {
    const shard = unparkFrom === undefined ? this.recordShard(id) : this.ownerShard(id, unparkFrom);
    const { keys, args } = this.moveArgs(shard, id, move);
    if (unparkFrom !== undefined) keys.push(shard.parked(unparkFrom), shard.parkedIndex);
    // the moves of a shard that come together go as one script (ScriptBatches)
    return this.moved(await this.batches.run(moveRecords, shard.due, keys, args), id, move);
  }

  async park(id: string, move: RecordMove, entry: ParkedEntry): Promise<boolean> {
    const shard = this.ownerShard(id, entry.owner);
    const { keys, args } = this.moveArgs(shard, id, move);
    keys.push(shard.parked(entry.owner), shard.parkedIndex);
    const own = [String(entry.score), String(entry.ttlSeconds), String(entry.until), String(entry.until - entry.ttlSeconds * 1000)];
    return this.moved(await this.redis.run(parkRecord, keys, [...args, ...own]), id, move);
  }

  async releaseAsReply(id: string, move: RecordMove, owner: string, reply: { pushKey: string; text: string; ttlMs: number }): Promise<boolean> {
    const shard = this.ownerShard(id, owner);
    const { keys, args } = this.moveArgs(shard, id, move);
    keys.push(shard.parked(owner), shard.reply(owner, reply.pushKey), shard.parkedIndex);
    return this.moved(await this.redis.run(releaseRecordAsReply, keys, [...args, reply.text, String(reply.ttlMs)]), id, move);
  }

  async moveLinkingMsgid(id: string, move: RecordMove, link: MsgidLink): Promise<{ moved: boolean; early: string | null }> {
    const shard = this.recordShard(id); // the msgid's keys are in the record's shard, as linkMsgid's
    const { keys, args } = this.moveArgs(shard, id, move);
    const [reply, early] = (await this.batches.run(linkMsgidsAndMoves, shard.due, [shard.msgid(link.msgid), shard.earlyReceipt(link.msgid), ...keys], [String(link.ttlSeconds), ...args])) as [
      number,
      string | null,
    ];
    return { moved: this.moved(reply, id, move), early };
  }

  async appendHistory(id: string, entry: HistoryEntry): Promise<void> {
    const keys = this.recordShard(id);
    await this.redis.run(appendHistory, [keys.record(id), keys.history(id)], [encodeLine(entry)]);
  }

  async allDueNow(now: number): Promise<number> {
    return this.schedule.allDueNow(this.account, now);
  }

  // --- search ---------------------------------------------------------------------------------

  findByTerm(term: string, options: SearchOptions & { user?: string }): Promise<SearchPage> {
    const shards = options.user === undefined ? this.allShards() : [this.ids.shardOfUser(options.user)];
    return this.search(shards, (keys) => keys.searchTerm(term), 'desc', options);
  }

  findParked(options: SearchOptions): Promise<SearchPage> {
    return this.search(this.allShards(), (keys) => keys.parkedIndex, 'asc', options);
  }

  private allShards(): number[] {
    return Array.from({ length: this.ids.shards }, (_, shard) => shard);
  }

  /** Reads the index of each shard at once (pipelined) and merges their pages. */
  private async search(shards: number[], index: (keys: ShardKeys) => string, order: 'asc' | 'desc', options: SearchOptions): Promise<SearchPage> {
    const { after, creators, limit } = options;
    const position = after ? [String(after.score), localId(after.id)] : ['', ''];
    const pages = await Promise.all(
      shards.map(async (shard) => {
        const keys = this.keys.shard(this.account, shard);
        const [found, last] = (await this.redis.run(
          searchIndex,
          [index(keys)],
          [order, ...position, String(limit + 1), String(SEARCH_SCAN_LIMIT), keys.record(''), `.${this.account}`, CREATOR_FIELD, ...(creators ?? [])],
        )) as [string[], string[]];
        const items: SearchPosition[] = [];
        for (let i = 0; i < found.length; i += 2) items.push({ id: globalId(found[i], this.account), score: Number(found[i + 1]) });
        return { items, frontier: last.length === 0 ? null : { score: Number(last[0]), id: globalId(last[1], this.account) } };
      }),
    );
    const { items, next } = mergePages(pages, order === 'desc' ? newestFirst : soonestFirst, limit);
    return { ids: items.map((p) => p.id), next };
  }

  // --- counters --------------------------------------------------------------------------------

  /** The account's counters are kept per shard (each move counts in its record's shard): read from every one. */
  readCounters(resolution: ReadResolution, from: number, to: number): Promise<BucketCount[]> {
    const shards = Array.from({ length: this.ids.shards }, (_, shard) => this.keys.shard(this.account, shard));
    return readCounters(this.redis, shards, resolution, from, to);
  }

  // --- correlation -----------------------------------------------------------------------------

  async linkMsgid(msgid: string, id: string, ttlSeconds: number): Promise<string | null> {
    const keys = this.recordShard(id); // the record's shard is its user's
    return (await this.redis.run(linkMsgid, [keys.msgid(msgid), keys.earlyReceipt(msgid)], [id, String(ttlSeconds)])) as string | null;
  }

  /**
   * One script per call on one Redis; on a cluster one per shard (a script stays in one slot), all
   * sent at once. Each receipt's promise settles with its script and the index hints its moves
   * call for.
   */
  applyReceipts(receipts: readonly MsgidReceipt[]): Promise<ReceiptApplied>[] {
    const groups = groupBy([...receipts.keys()], (i) => (this.redis.isCluster ? this.ids.shardOfUser(receipts[i].user) : 0));
    const results: Promise<ReceiptApplied>[] = new Array(receipts.length);
    for (const members of groups.values()) {
      const applied = this.applyReceiptGroup(members.map((i) => receipts[i]));
      members.forEach((i, j) => (results[i] = applied.then((all) => all[j])));
    }
    return results;
  }

  private async applyReceiptGroup(receipts: readonly MsgidReceipt[]): Promise<ReceiptApplied[]> {
    const shards = receipts.map((r) => this.ids.shardOfUser(r.user));
    // On one Redis a call carries the receipts of every shard: their counts all go to the first's
    // counters, one HINCRBY per counter instead of one per counter and shard (on a cluster the
    // call holds one shard's receipts anyway)
    const countIn = this.keys.shard(this.account, shards[0]);
    const replies = (await runEachItem(
      this.redis,
      applyReceipts,
      receipts.map((r, i) => {
        const keys = this.keys.shard(this.account, shards[i]);
        // the script's move takes the record only when it is the sender's (see applyReceipt)
        const move = this.moveArgs(keys, '', { ...r.move, expect: { ...r.move.expect, openid: r.user } }, countIn);
        return {
          keys: [keys.pushSeen(r.user, r.pushKey), keys.msgid(r.msgid), keys.earlyReceipt(r.msgid), ...move.keys],
          args: [String(r.seenSeconds), r.status, String(r.stashSeconds), r.user, r.notes.at, r.notes.foreign, r.notes.late, String(LINKED_AFTER_RECEIPT_SECONDS), ...move.args],
        };
      }),
    )) as string[][];
    this.hintAfter(replies.flatMap(([result], i) => (result === 'moved' ? [[shards[i], receipts[i].move] as const] : [])));
    return replies.map(([result, id]): ReceiptApplied => (result === 'duplicate' || result === 'stashed' ? { result } : { result: result as 'gone' | 'foreign' | 'late' | 'moved', id }));
  }

  // --- customer-service windows ----------------------------------------------------------------

  async openWindow(user: string, kind: string, quota: number, expiresAt: number, keepSeconds: number): Promise<void> {
    const key = this.userShard(user).window(user, kind);
    await this.redis.run(openWindow, [key], [String(quota), String(expiresAt), String(expiresAt + keepSeconds * 1000)]);
  }

  async takeFromWindow(user: string, kinds: readonly string[], now: number): Promise<{ use: WindowUse; kind?: string }> {
    if (kinds.length === 0) return { use: 'unknown' };
    const keys = this.userShard(user);
    const [use, index] = (await this.redis.run(
      takeFromWindow,
      kinds.map((kind) => keys.window(user, kind)),
      [String(now)],
    )) as [WindowUse, number?];
    return index === undefined ? { use } : { use, kind: kinds[index - 1] };
  }

  async giveBackToWindow(user: string, kind: string): Promise<void> {
    await this.redis.run(giveBackToWindow, [this.userShard(user).window(user, kind)], []);
  }

  async getWindow(user: string, kind: string): Promise<WindowState | null> {
    const key = this.userShard(user).window(user, kind);
    const state = (await this.redis.call('getWindow', (redis) => redis.hGetAll(key))) as Partial<Record<keyof WindowState, string>>;
    if (state.remaining === undefined || state.expiresAt === undefined) return null;
    return { remaining: Number(state.remaining), expiresAt: Number(state.expiresAt) };
  }

  async closeWindows(user: string, kinds: readonly string[], now: number, keepSeconds: number): Promise<void> {
    if (kinds.length === 0) return;
    const keys = this.userShard(user);
    await this.redis.run(
      closeWindows,
      kinds.map((kind) => keys.window(user, kind)),
      [String(now), String(now + keepSeconds * 1000)],
    );
  }

  // --- parked lists ----------------------------------------------------------------------------

  async parkedFor(owner: string, limit: number): Promise<string[]> {
    if (limit <= 0) return [];
    return this.redis.call('parkedFor', (redis) => redis.zRange(this.userShard(owner).parked(owner), 0, limit - 1));
  }

  async forgetParked(owner: string, id: string): Promise<void> {
    await this.redis.call('forgetParked', (redis) => redis.zRem(this.userShard(owner).parked(owner), id));
  }

  // --- push memory -----------------------------------------------------------------------------

  async firstSeenPush(user: string, pushKey: string, ttlSeconds: number): Promise<boolean> {
    const reply = await this.redis.call('firstSeenPush', (redis) =>
      redis.set(this.userShard(user).pushSeen(user, pushKey), 'claimed', { condition: 'NX', expiration: { type: 'EX', value: ttlSeconds } }),
    );
    return reply === 'OK';
  }

  async renewPushClaim(user: string, pushKey: string, ttlSeconds: number): Promise<void> {
    await this.redis.run(renewClaim, [this.userShard(user).pushSeen(user, pushKey)], [String(ttlSeconds)]);
  }

  async keepPushSeen(user: string, pushKey: string, ttlSeconds: number): Promise<void> {
    await this.redis.call('keepPushSeen', (redis) =>
      redis.set(this.userShard(user).pushSeen(user, pushKey), 'handled', { expiration: { type: 'EX', value: ttlSeconds } }),
    );
  }

  async pushState(user: string, pushKey: string): Promise<'claimed' | 'handled' | null> {
    const state = await this.redis.call('pushState', (redis) => redis.get(this.userShard(user).pushSeen(user, pushKey)));
    return state === 'claimed' || state === 'handled' ? state : null;
  }

  async forgetPush(user: string, pushKey: string): Promise<void> {
    await this.redis.call('forgetPush', (redis) => redis.del(this.userShard(user).pushSeen(user, pushKey)));
  }

  async replyFor(user: string, pushKey: string): Promise<string | null> {
    return this.redis.call('replyFor', (redis) => redis.get(this.userShard(user).reply(user, pushKey)));
  }

  async botReplyFor(user: string, pushKey: string): Promise<string | null> {
    return this.redis.call('botReplyFor', (redis) => redis.get(this.userShard(user).botReply(user, pushKey)));
  }

  async rememberBotReply(user: string, pushKey: string, xml: string, ttlMs: number): Promise<void> {
    await this.redis.call('rememberBotReply', (redis) =>
      redis.set(this.userShard(user).botReply(user, pushKey), xml, { expiration: { type: 'PX', value: ttlMs } }),
    );
  }
}
