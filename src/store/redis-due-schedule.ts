import { PeriodicTask } from './periodic-task';
import { rotated } from './rotated';
import { checkLease } from './checks';
import { ClaimedIndex, unlessUnavailable } from './claimed-index';
import type { RedisConnection } from './redis-connection';
import { dueIndexMember, parseDueIndexMember, type RedisKeys } from './redis-keys';
import { decodeRecord } from './redis-record-codec';
import { allDueNow } from './scripts/all-due-now';
import { claimDueRecords } from './scripts/claim-due';
import type { DueWork } from './store';

/** Shards read from the due index per claim: enough to share a claim among many accounts. */
const INDEX_READ_LIMIT = 1000;

export const DEFAULT_INDEX_SWEEP_INTERVAL_MS = 30_000;

interface ShardClaim {
  member: string;
  account: string;
  shard: number;
  /** How many to claim from the shard. */
  count: number;
}

/** `total` shared out evenly over `n` takers, the first ones getting one more when it does not divide. */
const shareOut = (total: number, n: number): number[] => Array.from({ length: n }, (_, i) => Math.floor(total / n) + (i < total % n ? 1 : 0));

/**
 * The due schedule across accounts and shards, in Redis.
 *
 * Each shard of each account has its own due zset (in the shard's slot, next to its records). So that
 * the work loop does not poll every shard of every account, a due index under the deployment's tag
 * names the shards that have something due and when (see scripts/due-index.ts):
 *
 * - every write that puts or moves a record on a shard's schedule is followed by a hint (the
 *   index's score of the shard drops to the new due time); a crash between the write and its hint
 *   is repaired by the sweep;
 * - a claim marks the shard (score = lease end, so a claimer that dies leaves the shard to come
 *   back by itself), claims on the shard, and settles the index with the shard's earliest score
 *   after the claim, exactly only if no write hinted in between (else the score may only drop);
 * - the sweep (at the first claim of this process and then every `sweepIntervalMs`) re-hints every
 *   shard of every account that ever had a record, from the shard's own zset: one read per shard
 *   (accounts × shardsPerAccount) per interval and process.
 *
 * "No write hinted in between" is a token the hint deletes, not a comparison of the score with the
 * mark: a write due after the lease end leaves the score at the mark, and a settle that took that
 * as "nothing happened" would raise the score past the new record (to the shard's next due time
 * as the claim saw it, maybe hours away) and hide it until the sweep.
 *
 * A hint that cannot be written (its master unreachable) is left to the sweep rather than failing a
 * write that happened. The hints of one turn of the event loop go to Redis as one call, and so do
 * the marks of one claim and the settles of one turn (see ClaimedIndex).
 */
export class RedisDueSchedule {
  /** Accounts this process has added to the deployment's list (one SADD per account per process). */
  private readonly listed = new Set<string>();
  private readonly sweeper: PeriodicTask;
  private readonly index: ClaimedIndex;
  /** Counts claims, to rotate which account is served first. */
  private turn = 0;

  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly shards: number,
    sweepIntervalMs: number,
  ) {
    this.sweeper = new PeriodicTask(sweepIntervalMs, () => this.sweepOnce());
    this.index = new ClaimedIndex(redis, [keys.deployment.dueIndex, keys.deployment.dueClaims]);
  }

  /** Adds `account` to the accounts the sweep looks at; called before its first record is written. */
  async listAccount(account: string): Promise<void> {
    if (this.listed.has(account)) return;
    await this.redis.call('listAccount', (redis) => redis.sAdd(this.keys.deployment.accounts, account));
    this.listed.add(account);
  }

  /** After a write that made a record of the shard due at `dueAt` (see ClaimedIndex.hint). */
  hint(account: string, shard: number, dueAt: number): void {
    this.index.hint(dueIndexMember(account, shard), dueAt);
  }

  /**
   * Claims up to `limit` due records, shared evenly among the accounts with due work (what one
   * leaves unused goes to the others), and within an account among its due shards. A shard that
   * cannot be reached is skipped (its records stay due): the others' work goes on.
   */
  async claimDue(now: number, leaseMs: number, limit: number): Promise<DueWork[]> {
    checkLease(leaseMs);
    if (limit <= 0) return [];
    await this.sweeper.whenDue();
    await this.index.written();
    const due = await this.redis.call('claimDue', (redis) =>
      redis.zRangeWithScores(this.keys.deployment.dueIndex, '-inf', now, { BY: 'SCORE', LIMIT: { offset: 0, count: INDEX_READ_LIMIT } }),
    );
    // accounts, each with its due shards, in order of their earliest due shard
    const open = new Map<string, string[]>();
    for (const { value } of due) {
      const { account } = parseDueIndexMember(value);
      open.set(account, [...(open.get(account) ?? []), value]);
    }
    const claimed: DueWork[] = [];
    let failure: unknown;
    let remaining = limit;
    // What does not share out evenly goes first to a different account on every claim: a claim of
    // one (the work loop's usual size once busy) must not always go to the account with the oldest
    // work, or one account's flood would hold back every other account.
    const turn = this.turn++;
    // Each round shares what is left among the accounts and shards still open; a shard that gives
    // fewer than asked has nothing more due and closes. So each round either fills the claim or
    // closes a shard.
    while (remaining > 0 && open.size > 0) {
      const asks: ShardClaim[] = [];
      const accountShares = shareOut(remaining, open.size);
      rotated([...open], turn).forEach(([account, members], i) => {
        shareOut(accountShares[i], members.length).forEach((count, j) => {
          if (count > 0) asks.push({ member: members[j], account, shard: parseDueIndexMember(members[j]).shard, count });
        });
      });
      let token: string;
      try {
        token = await this.index.mark(asks.map((ask) => ask.member), now + leaseMs);
      } catch (err) {
        failure ??= err;
        break;
      }
      const results = await Promise.allSettled(asks.map((ask) => this.claimShard(ask, token, now, leaseMs)));
      results.forEach((result, i) => {
        const { account, member, count } = asks[i];
        const work = result.status === 'fulfilled' ? result.value : [];
        if (result.status === 'rejected') failure ??= result.reason;
        claimed.push(...work);
        remaining -= work.length;
        if (work.length < count) {
          const members = open.get(account)!.filter((m) => m !== member);
          if (members.length > 0) open.set(account, members);
          else open.delete(account);
        }
      });
    }
    if (claimed.length === 0 && failure !== undefined) throw failure;
    return claimed;
  }

  /** Claim (with each record as it is) and settle one shard of a claim marked with `token` (see the class comment). */
  private async claimShard({ member, account, shard, count }: ShardClaim, token: string, now: number, leaseMs: number): Promise<DueWork[]> {
    const shardKeys = this.keys.shard(account, shard);
    const [earliest, ...flat] = (await this.redis.run(
      claimDueRecords,
      [shardKeys.due],
      [String(now), String(now + leaseMs), String(count), shardKeys.record(''), shardKeys.history('')],
    )) as [string, ...Array<string | string[]>];
    const work: DueWork[] = [];
    for (let i = 0; i < flat.length; i += 3) work.push({ account, id: flat[i] as string, record: decodeRecord(flat[i + 1] as string[], flat[i + 2] as string[]) ?? undefined });
    // the claimed ids are leased whatever happens to the settle: a failed one leaves the mark, so
    // the shard comes back when the lease ends
    await this.index.settle(member, token, earliest).catch(unlessUnavailable);
    return work;
  }

  /** Hints every shard of every listed account that has something on its schedule. */
  sweep(): Promise<void> {
    return this.sweeper.run();
  }

  private async sweepOnce(): Promise<void> {
    const accounts = await this.redis.call('sweep', (redis) => redis.sMembers(this.keys.deployment.accounts));
    const shards = accounts.flatMap((account) => Array.from({ length: this.shards }, (_, shard) => ({ account, shard })));
    const firsts = await Promise.all(
      shards.map(({ account, shard }) => this.redis.call('sweep', (redis) => redis.zRangeWithScores(this.keys.shard(account, shard).due, 0, 0))),
    );
    const hints = firsts.flatMap((first, i) => (first.length > 0 ? [{ value: dueIndexMember(shards[i].account, shards[i].shard), score: first[0].score }] : []));
    // LT: the sweep only adds what is missing or lowers what is too late; it never undoes a hint
    if (hints.length > 0) await this.redis.call('sweep', (redis) => redis.zAdd(this.keys.deployment.dueIndex, hints, { comparison: 'LT' }));
  }

  /** Every record of `account` on the schedule becomes due at `now`; returns how many. */
  async allDueNow(account: string, now: number): Promise<number> {
    const counts = await Promise.all(
      Array.from({ length: this.shards }, async (_, shard) => {
        const count = (await this.redis.run(allDueNow, [this.keys.shard(account, shard).due], [String(now)])) as number;
        if (count > 0) this.hint(account, shard, now);
        return count;
      }),
    );
    return counts.reduce((sum, count) => sum + count, 0);
  }

  /**
   * Records on the schedule and the earliest due time, over all accounts: read from the shards the
   * index names (one call per such shard), so exact as long as no hint is missing.
   */
  async scheduleInfo(): Promise<{ size: number; nextDueAt: number | null }> {
    await this.index.written();
    const members = await this.redis.call('scheduleInfo', (redis) => redis.zRange(this.keys.deployment.dueIndex, 0, -1));
    const shards = await Promise.all(
      members.map((member) => {
        const { account, shard } = parseDueIndexMember(member);
        const due = this.keys.shard(account, shard).due;
        return Promise.all([
          this.redis.call('scheduleInfo', (redis) => redis.zCard(due)),
          this.redis.call('scheduleInfo', (redis) => redis.zRangeWithScores(due, 0, 0)),
        ]);
      }),
    );
    let size = 0;
    let nextDueAt: number | null = null;
    for (const [count, first] of shards) {
      size += count;
      if (first.length > 0 && (nextDueAt === null || first[0].score < nextDueAt)) nextDueAt = first[0].score;
    }
    return { size, nextDueAt };
  }
}
