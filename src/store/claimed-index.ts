import { randomBytes } from 'node:crypto';
import type { RedisConnection } from './redis-connection';
import { hintDue, markDueClaim, settleDueClaim } from './scripts/due-index';
import { TickBatch, together } from '../tick-batch';
import { StoreUnavailableError } from './unavailable';

/** Rethrows anything but StoreUnavailableError. */
export function unlessUnavailable(err: unknown): void {
  if (!(err instanceof StoreUnavailableError)) throw err;
}

/** Hints (and settles) gathered while one call is out go in the next, each place once. */
const ONE_AT_A_TIME = { inFlight: 1 };

/**
 * An index of places that have something due (the due schedule's shards, the outboxes), kept by
 * hints and claims as scripts/due-index.ts describes, with the calls of many places in one script:
 *
 * - the hints gathered in one turn of the event loop, or while the last call of hints is out, go
 *   as one call, each place at the earliest time hinted for it. Each hint is still sent after the
 *   write it follows (a write's caller hints once the write is stored), which is all the claims'
 *   settles rely on: a write stored before the hint that voids a claim in progress, so that
 *   claim's settle can no longer raise the place past it. Writes do not wait for their hints (a
 *   lost hint only delays, until the sweep); this instance's reads of the index wait until the
 *   hints it gave are written (`written`), so they see its own writes;
 * - a claim marks all its places in one call, and the settles gathered in one turn (or while the
 *   last call of settles is out) go as one call.
 */
export class ClaimedIndex {
  private readonly hints: TickBatch<[string, number]>;
  private readonly settles: TickBatch<[string, string, string]>;
  /** Settles once the last hint given is written (or failed): the calls of hints go one after the other. */
  private lastHint: Promise<void> = Promise.resolve();

  constructor(
    private readonly redis: RedisConnection,
    /** The index (zset) and its claims in progress (hash), in one slot. */
    private readonly keys: [string, string],
  ) {
    this.hints = new TickBatch(
      together(async (hints: Array<[string, number]>) => {
        const earliest = new Map<string, number>();
        for (const [member, at] of hints) earliest.set(member, Math.min(at, earliest.get(member) ?? at));
        const args = [...earliest].flatMap(([member, at]) => [member, String(at)]);
        // unreachable: the sweep puts it right
        await this.redis.run(hintDue, this.keys, args).catch(unlessUnavailable);
      }),
      ONE_AT_A_TIME,
    );
    this.settles = new TickBatch(
      together(async (settles: Array<[string, string, string]>) => {
        await this.redis.run(settleDueClaim, this.keys, settles.flat());
      }),
      ONE_AT_A_TIME,
    );
  }

  /**
   * After a write that made `member` due at `at`, once the write is stored. Not waited for by the
   * write: a hint only tells the claims where to look sooner, and one that fails, or is lost with
   * this instance, is made good by the sweep; this instance's reads of the index wait for it
   * (`written`).
   */
  hint(member: string, at: number): void {
    this.lastHint = this.hints.add([member, at]).catch(() => undefined);
  }

  /**
   * Settles once every hint given so far by this instance is written (or failed). Writes do not
   * wait for their hints; what reads the index waits for them, so that it sees what this instance
   * wrote before (a notice accepted here is claimed by the claim its acceptance wakes).
   */
  written(): Promise<void> {
    return this.lastHint;
  }

  /** Marks a claim on `members` until `leaseEnd`; its token, for the settles. */
  async mark(members: readonly string[], leaseEnd: number): Promise<string> {
    const token = randomBytes(8).toString('hex');
    if (members.length > 0) await this.redis.run(markDueClaim, this.keys, [String(leaseEnd), token, ...members]);
    return token;
  }

  /** The claim with `token` on `member` ends; `earliest`: when the member is next due ('' never). */
  settle(member: string, token: string, earliest: string): Promise<void> {
    return this.settles.add([member, token, earliest]);
  }
}
