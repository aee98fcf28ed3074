import { checkCreateFields, recordExistsError } from './checks';
import type { BucketCount, Resolution } from './counter-buckets';
import { readCounters, tallyArgs, tallyKeys } from './redis-counters';
import type { RecordIds } from './record-ids';
import type { RedisConnection } from './redis-connection';
import type { RedisDueSchedule } from './redis-due-schedule';
import type { RedisOutboxes } from './redis-outboxes';
import { RedisKeyValues } from './redis-key-values';
import type { AccountKeys, RedisKeys, ShardKeys } from './redis-keys';
import { closeWindows } from './scripts/close-windows';
import { createRecord } from './scripts/create';
import { getRecord } from './scripts/get-record';
import { linkMsgid } from './scripts/link-msgid';
import { openWindow } from './scripts/open-window';
import { moveRecord, parkRecord, releaseRecordAsReply } from './scripts/record-move';
import { renewClaim } from './scripts/renew-claim';
import { resolveMsgid } from './scripts/resolve-msgid';
import { giveBackToWindow } from './scripts/return-window';
import { takeFromWindow } from './scripts/take-window';
import type {
  AccountStore,
  CreateOptions,
  CreateResult,
  Fields,
  HistoryEntry,
  ParkedEntry,
  RecordMove,
  StoredRecord,
  WindowState,
  WindowUse,
} from './store';
import { newEventId } from './webhook-store';

const flatten = (fields: Fields): string[] => Object.entries(fields).flat();

/** Pairs of a flat HGETALL reply from Lua → an object. */
function unflatten(flat: string[]): Fields {
  const fields: Fields = {};
  for (let i = 0; i < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
  return fields;
}

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

  /**
   * With an idempotency key, two steps (the key is under the account's tag, the record under its
   * user's shard: two slots), each safe to repeat: the key is taken with SET NX, then the record is
   * written. A key found taken names the record of an earlier request; when that request had the
   * same fingerprint and its record is missing (its instance died between the steps), the record is
   * written now under the earlier id, so a retry completes it.
   */
  async create(id: string, fields: Fields, history: HistoryEntry, options: CreateOptions): Promise<CreateResult> {
    checkCreateFields(id, fields);
    this.shardOfRecord(id);
    await this.schedule.listAccount(this.account);
    const { idempotency } = options;
    if (idempotency) {
      const value = JSON.stringify({ id, fingerprint: idempotency.fingerprint });
      const held = await this.redis.call('create', (redis) =>
        redis.set(this.accountKeys.idempotency(idempotency.key), value, {
          condition: 'NX',
          GET: true,
          expiration: { type: 'EX', value: options.ttlSeconds },
        }),
      );
      if (held !== null) {
        const existing = JSON.parse(held) as { id: string; fingerprint: string };
        if (existing.fingerprint === idempotency.fingerprint) await this.writeRecord(existing.id, fields, history, options);
        return { created: false, existingId: existing.id, fingerprint: existing.fingerprint };
      }
    }
    // With the key taken by this call, a record already there was written by a retry that found
    // the key before this write: the same request, done.
    if (!(await this.writeRecord(id, fields, history, options)) && !idempotency) throw recordExistsError(id);
    return { created: true };
  }

  /** The record and its place on the schedule (then the due index's hint); false when it exists. */
  private async writeRecord(id: string, fields: Fields, history: HistoryEntry, options: CreateOptions): Promise<boolean> {
    const shard = this.shardOfRecord(id);
    const keys = this.keys.shard(this.account, shard);
    const { dueAt } = options;
    const reply = await this.redis.run(
      createRecord,
      [keys.record(id), keys.history(id), keys.due, ...tallyKeys(keys, options.tally)],
      [id, String(options.ttlSeconds), JSON.stringify(history), dueAt === undefined ? '' : String(dueAt), ...tallyArgs(options.tally), ...flatten(fields)],
    );
    if (reply !== 1) return false;
    if (dueAt !== undefined) await this.schedule.hint(this.account, shard, dueAt);
    return true;
  }

  async get(id: string): Promise<StoredRecord | null> {
    const keys = this.recordShard(id);
    const [flat, history] = (await this.redis.run(getRecord, [keys.record(id), keys.history(id)], [])) as [string[], string[]];
    const fields = unflatten(flat);
    if (fields.status === undefined) return null;
    return { fields, history: history.map((entry) => JSON.parse(entry) as HistoryEntry) };
  }

  /** KEYS and ARGV of a record move (see scripts/record-move.ts), then the script's own. */
  private moveArgs(keys: ShardKeys, id: string, move: RecordMove): { keys: string[]; args: string[] } {
    const { from, to, set = {}, expect = {}, history, dueAt, event, tally } = move;
    const expected = flatten(expect);
    const fields = flatten(set);
    const recorded = event ? [newEventId(event.at), event.type, String(event.at), this.account, ...event.fields] : [];
    return {
      keys: [keys.record(id), keys.history(id), keys.due, keys.outbox, ...tallyKeys(keys, tally)],
      args: [
        id,
        to,
        history ? JSON.stringify(history) : '',
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

  /** After a move that happened: a record put on the schedule is hinted to the due index, an event to the outbox index. */
  private async moved(reply: unknown, id: string, move: RecordMove): Promise<boolean> {
    if (reply !== 1) return false;
    if (typeof move.dueAt === 'number') await this.schedule.hint(this.account, this.shardOfRecord(id), move.dueAt);
    if (move.event) await this.outboxes.hint(this.recordShard(id).outbox, move.event.at);
    return true;
  }

  async move(id: string, move: RecordMove, unparkFrom?: string): Promise<boolean> {
    const shard = unparkFrom === undefined ? this.recordShard(id) : this.ownerShard(id, unparkFrom);
    const { keys, args } = this.moveArgs(shard, id, move);
    if (unparkFrom !== undefined) keys.push(shard.parked(unparkFrom));
    return this.moved(await this.redis.run(moveRecord, keys, args), id, move);
  }

  async park(id: string, move: RecordMove, entry: ParkedEntry): Promise<boolean> {
    const shard = this.ownerShard(id, entry.owner);
    const { keys, args } = this.moveArgs(shard, id, move);
    keys.push(shard.parked(entry.owner));
    return this.moved(await this.redis.run(parkRecord, keys, [...args, String(entry.score), String(entry.ttlSeconds)]), id, move);
  }

  async releaseAsReply(id: string, move: RecordMove, owner: string, reply: { pushKey: string; text: string; ttlMs: number }): Promise<boolean> {
    const shard = this.ownerShard(id, owner);
    const { keys, args } = this.moveArgs(shard, id, move);
    keys.push(shard.parked(owner), shard.reply(owner, reply.pushKey));
    return this.moved(await this.redis.run(releaseRecordAsReply, keys, [...args, reply.text, String(reply.ttlMs)]), id, move);
  }

  async appendHistory(id: string, entry: HistoryEntry): Promise<void> {
    // RPUSHX: the history list exists exactly as long as the record (same TTL, created together)
    await this.redis.call('appendHistory', (redis) => redis.rPushX(this.recordShard(id).history(id), JSON.stringify(entry)));
  }

  async allDueNow(now: number): Promise<number> {
    return this.schedule.allDueNow(this.account, now);
  }

  // --- counters --------------------------------------------------------------------------------

  /** The account's counters are kept per shard (each move counts in its record's shard): read from every one. */
  readCounters(resolution: Resolution, from: number, to: number): Promise<BucketCount[]> {
    const shards = Array.from({ length: this.ids.shards }, (_, shard) => this.keys.shard(this.account, shard));
    return readCounters(this.redis, shards, resolution, from, to);
  }

  // --- correlation -----------------------------------------------------------------------------

  async linkMsgid(msgid: string, id: string, ttlSeconds: number): Promise<string | null> {
    const keys = this.recordShard(id); // the record's shard is its user's
    return (await this.redis.run(linkMsgid, [keys.msgid(msgid), keys.earlyReceipt(msgid)], [id, String(ttlSeconds)])) as string | null;
  }

  async resolveMsgid(user: string, msgid: string, status: string, ttlSeconds: number): Promise<string | null> {
    const keys = this.userShard(user);
    return (await this.redis.run(resolveMsgid, [keys.msgid(msgid), keys.earlyReceipt(msgid)], [status, String(ttlSeconds)])) as string | null;
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
