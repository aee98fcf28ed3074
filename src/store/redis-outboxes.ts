import { PeriodicTask } from './periodic-task';
import { checkLease } from './checks';
import { ClaimedIndex } from './claimed-index';
import type { RedisConnection } from './redis-connection';
import type { RedisKeys } from './redis-keys';
import { decodeHistory } from './redis-record-codec';
import { ackOutbox, appendEvent, outboxLength, readOutbox } from './scripts/outbox';
import type { Fields, HistoryEntry } from './store';
import { newEventId, OUTBOXES_COUNTED, type NewEvent, type OutboxBatch, type OutboxEvent } from './webhook-store';

type StreamEntry = [string, string[]];

/** A stream entry of an outbox (see scripts/outbox.ts and record-move.ts) → the event. */
function toEvent([entry, flat]: StreamEntry): OutboxEvent {
  const raw: Fields = {};
  const fields: Fields = {};
  for (let i = 0; i < flat.length; i += 2) {
    if (flat[i].startsWith('f:')) fields[flat[i].slice(2)] = flat[i + 1];
    else raw[flat[i]] = flat[i + 1];
  }
  const event: OutboxEvent = { id: raw.id, type: raw.type, at: Number(raw.at), account: raw.account || null, subject: raw.subject, entry };
  if (raw.history !== undefined) {
    const lines = raw.history;
    let history: HistoryEntry[] | undefined;
    // read when a body is built: the history of an event no endpoint wants is never decoded
    event.record = {
      fields,
      get history() {
        return (history ??= decodeHistory(JSON.parse(lines) as unknown[]));
      },
    };
  }
  if (raw.data !== undefined) event.data = raw.data;
  return event;
}

/**
 * The outboxes in Redis: one per shard of each account (appended to by the record moves) and the
 * deployment's, with an index of those that hold events. The index is kept as the due index is
 * (see RedisDueSchedule): hinted after each append, marked and settled by each claim, and swept
 * every `sweepIntervalMs` from the outboxes themselves, so a hint lost to a crash delays an event
 * by at most that long and never loses it. Hints, marks and settles of many outboxes go as one
 * call (see ClaimedIndex).
 */
export class RedisOutboxes {
  private readonly sweeper: PeriodicTask;
  private readonly index: ClaimedIndex;

  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly shards: number,
    sweepIntervalMs: number,
  ) {
    this.sweeper = new PeriodicTask(sweepIntervalMs, () => this.sweepOnce());
    this.index = new ClaimedIndex(redis, [keys.deployment.outboxIndex, keys.deployment.outboxClaims]);
  }

  /** After an append to `outbox` (see ClaimedIndex.hint). */
  hint(outbox: string, at: number): void {
    this.index.hint(outbox, at);
  }

  async append(event: NewEvent): Promise<string> {
    const { outbox, outboxIndex, outboxClaims } = this.keys.deployment;
    const id = newEventId(event.at);
    await this.redis.run(appendEvent, [outbox, outboxIndex, outboxClaims], [id, event.type, String(event.at), event.account ?? '', event.subject, event.data]);
    return id;
  }

  async claim(now: number, leaseMs: number, outboxes: number, events: number): Promise<OutboxBatch[]> {
    checkLease(leaseMs);
    await this.sweeper.whenDue();
    await this.index.written();
    const { outboxIndex } = this.keys.deployment;
    const due = await this.redis.call('claimOutbox', (redis) => redis.zRange(outboxIndex, '-inf', now, { BY: 'SCORE', LIMIT: { offset: 0, count: outboxes } }));
    const token = await this.index.mark(due, now + leaseMs);
    const batches = await Promise.all(
      due.map(async (outbox) => {
        const entries = (await this.redis.run(readOutbox, [outbox], [String(events)])) as StreamEntry[];
        return { outbox, token, events: entries.map(toEvent) };
      }),
    );
    // an empty one leaves the index now (an append since hinted it back)
    await Promise.all(batches.filter((b) => b.events.length === 0).map((b) => this.ack(b, now)));
    return batches.filter((b) => b.events.length > 0);
  }

  async ack(batch: OutboxBatch, now: number): Promise<void> {
    const left =
      batch.events.length > 0
        ? ((await this.redis.run(ackOutbox, [batch.outbox], batch.events.map((e) => e.entry))) as number)
        : ((await this.redis.run(outboxLength, [batch.outbox], [])) as number);
    await this.index.settle(batch.outbox, batch.token, left > 0 ? String(now) : '');
  }

  /** Events in the outboxes the index names (the first OUTBOXES_COUNTED of them). */
  async waiting(): Promise<number> {
    const { outboxIndex } = this.keys.deployment;
    const outboxes = await this.redis.call('outboxBacklog', (redis) => redis.zRange(outboxIndex, 0, OUTBOXES_COUNTED - 1));
    const lengths = await Promise.all(outboxes.map((outbox) => this.redis.run(outboxLength, [outbox], []) as Promise<number>));
    return lengths.reduce((sum, n) => sum + n, 0);
  }

  /** Hints every outbox that holds events: each shard of every account that ever had a record, and the deployment's. */
  sweep(): Promise<void> {
    return this.sweeper.run();
  }

  private async sweepOnce(): Promise<void> {
    const startedAt = Date.now();
    const accounts = await this.redis.call('sweepOutboxes', (redis) => redis.sMembers(this.keys.deployment.accounts));
    const outboxes = [this.keys.deployment.outbox, ...accounts.flatMap((account) => Array.from({ length: this.shards }, (_, shard) => this.keys.shard(account, shard).outbox))];
    const lengths = await Promise.all(outboxes.map((outbox) => this.redis.run(outboxLength, [outbox], []) as Promise<number>));
    const held = outboxes.filter((_, i) => lengths[i] > 0).map((value) => ({ value, score: startedAt }));
    // LT: the sweep only adds what is missing or lowers what is too late
    if (held.length > 0) await this.redis.call('sweepOutboxes', (redis) => redis.zAdd(this.keys.deployment.outboxIndex, held, { comparison: 'LT' }));
  }
}
