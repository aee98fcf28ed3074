import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { eachLimited } from '../each-limited';
import type { Logger } from '../log/logger';
import type { StreamEntry, StreamGroup } from '../store/store';
import { StoreUnavailableError } from '../store/unavailable';

/**
 * The client (owner) notices from the stream are recorded under, and the space of their
 * idempotency keys. API clients are named by a digest of their key (or `open`), so no API key is
 * this client; the API shows these notices to every key that may use their account.
 */
export const STREAM_CLIENT = 'stream';

/** The consumer group every wxreach instance reads the stream in (each instance one consumer of it). */
export const STREAM_GROUP = 'wxreach';

/** Why an entry's notification was refused (the API's error body). */
export interface EntryRefusal {
  code: string;
  message: string;
  details?: unknown;
}

/** Stored (or found stored under the same idempotency key and body), or refused. */
export type EntryOutcome = { id: string } | { refused: EntryRefusal };

/** An entry's notification (parsed) and its idempotency key; `key.field` names where the key came from, for a refusal. */
export interface DecodedEntry {
  notification: unknown;
  key: { value: string; field: string };
}

/**
 * Stores entries' notifications for STREAM_CLIENT, as the API would, together: one outcome per
 * entry, in order, which rejects with StoreUnavailableError when the store is away.
 */
export type AcceptEntries = (entries: readonly DecodedEntry[]) => Promise<EntryOutcome>[];

export interface StreamIntakeSettings {
  /** Wait between reads while nothing new comes. */
  pollMs: number;
  /** An entry handed to a reader and not acknowledged for this long is taken over (its instance died or hangs). */
  claimIdleMs: number;
  /** A `notification` longer than this (bytes of UTF-8) is refused, as an API body would be. */
  maxEntryBytes: number;
  /** Acknowledged entries stay in the stream this long (for anyone looking), then are removed. Default a day. */
  keepAcknowledgedMs?: number;
}

/** Entries read at once, and stored together. */
const READ_COUNT = 100;
/** Entries finished at once (a refused one is written to the dead-letter stream). */
const FINISH_CONCURRENCY = 32;
const DAY_MS = 86_400_000;
/** Back-off after a failed round: doubling from 100 ms to 5 s. */
const backoffMs = (failures: number) => Math.min(100 * 2 ** (failures - 1), 5000);

/** The field business systems put the notification's JSON in, and the optional idempotency key's. */
const NOTIFICATION_FIELD = 'notification';
const KEY_FIELD = 'idempotencyKey';

/**
 * The Redis Stream intake: business systems append a notification to the stream (`XADD <stream> *
 * notification <json> [idempotencyKey <key>]`), also while no wxreach instance runs. Every
 * instance reads the stream as one consumer of one group, stores each entry's notification (the
 * same checks as POST /v1/notifications) and acknowledges the entry only once it is stored; an entry
 * that cannot be stored as sent goes to the dead-letter stream (`<stream>:dead`) with a field
 * `error` (and its own fields) and is acknowledged then.
 *
 * Nothing is lost: an entry stays pending until acknowledged, and the pending entries of an
 * instance that died (idle for `claimIdleMs`) are taken over by another. Nothing is doubled: every
 * entry is stored under an idempotency key, its own `idempotencyKey` or, without one,
 * `<stream>/<entry id>` (an entry's id never changes), so storing it again finds the first record.
 * A dead letter is written before its entry is acknowledged: an instance dying between the two
 * leaves the same dead letter twice (the same `entry`), never none.
 */
export class StreamIntake {
  /** This instance's name in the group: unique, so each instance's pending entries are its own. */
  readonly consumer = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  private readonly keepAcknowledgedMs: number;
  private running = false;
  private loop: Promise<void> | null = null;
  /** Aborted by stop(): ends a wait at once. */
  private stopping = new AbortController();
  /** Entries of this consumer were left pending (the store was away): read them again first. */
  private ownPending = false;
  private nextSweepAt = 0;
  private failures = 0;
  private lastFailure = '';

  constructor(
    private readonly group: StreamGroup,
    private readonly accept: AcceptEntries,
    private readonly settings: StreamIntakeSettings,
    private readonly log: Logger,
    /** Called after a round stored something, so the work loop picks it up at once. */
    private readonly onStored: () => void,
  ) {
    this.keepAcknowledgedMs = settings.keepAcknowledgedMs ?? DAY_MS;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = new AbortController();
    this.log.info('stream intake reading', { stream: this.group.stream, consumer: this.consumer });
    this.loop = this.run();
  }

  /** Stops reading, lets the entries in hand be stored, and leaves the group when nothing of this instance is pending. */
  async stop(): Promise<void> {
    this.running = false;
    this.stopping.abort();
    await this.loop;
    await this.group.leave(this.consumer).catch(() => false);
  }

  /** Waits `ms`, or until stop(). */
  private pause(ms: number): Promise<void> {
    return sleep(ms, undefined, { signal: this.stopping.signal }).catch(() => undefined);
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        const busy = await this.round();
        if (this.failures > 0) this.log.info('stream intake reads again', { stream: this.group.stream, failedRounds: this.failures });
        this.failures = 0;
        if (!busy) await this.pause(this.settings.pollMs);
      } catch (err) {
        this.failures += 1;
        this.report(err);
        await this.pause(backoffMs(this.failures));
      }
    }
  }

  /** The first failure of a run of them, and any different one after it (the store being away is a warning, anything else an error). */
  private report(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    if (this.failures > 1 && message === this.lastFailure) return;
    this.lastFailure = message;
    const away = err instanceof StoreUnavailableError;
    this.log[away ? 'warn' : 'error'](away ? 'stream intake waits for the store' : 'stream intake failed; retrying', { stream: this.group.stream, err });
  }

  /**
   * One round: this instance's own leftovers, now and then the entries other instances left
   * (and the trim), then new entries unless stopping. Each part runs even when an earlier one
   * failed, so one entry that cannot be finished never holds up the others; the first failure is
   * thrown at the end. True when there were new entries (read again at once).
   */
  private async round(): Promise<boolean> {
    const failures: unknown[] = [];
    const attempt = (work: () => Promise<unknown>) => work().catch((err: unknown) => failures.push(err));
    if (this.ownPending) {
      this.ownPending = false;
      await attempt(async () => {
        const own = await this.group.readOwnPending(this.consumer, READ_COUNT);
        this.ownPending = own.length === READ_COUNT;
        await this.handle(own);
      });
    }
    if (Date.now() >= this.nextSweepAt) {
      this.nextSweepAt = Date.now() + this.settings.claimIdleMs / 2;
      await attempt(() => this.sweep());
    }
    let fresh = 0;
    if (this.running) {
      await attempt(async () => {
        const entries = await this.group.readNew(this.consumer, READ_COUNT);
        fresh = entries.length;
        await this.handle(entries);
      });
    }
    if (failures.length > 0) throw failures[0];
    return fresh > 0;
  }

  /** Takes over entries pending too long (their instance died), stores them, and trims what is acknowledged. */
  private async sweep(): Promise<void> {
    let cursor = '0-0';
    do {
      const claimed = await this.group.claimIdle(this.consumer, this.settings.claimIdleMs, READ_COUNT, cursor);
      if (claimed.entries.length > 0) this.log.info('stream entries of a stopped reader taken over', { stream: this.group.stream, count: claimed.entries.length });
      await this.handle(claimed.entries);
      cursor = claimed.cursor;
    } while (cursor !== '0-0' && this.running);
    await this.group.trimAcknowledged(Date.now() - this.keepAcknowledgedMs);
  }

  /**
   * Stores the entries (together) and acknowledges those finished. One that could not be finished
   * stays pending and is read again: the round fails with the reason.
   */
  private async handle(entries: readonly StreamEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const decoded = entries.map((entry) => this.decode(entry));
    const wanted = decoded.flatMap((d) => ('refused' in d ? [] : [d]));
    const accepted = this.accept(wanted);
    let next = 0;
    const outcomes = await Promise.allSettled(decoded.map((d) => ('refused' in d ? d : accepted[next++])));
    const finished: string[] = [];
    let stored = 0;
    let failure: unknown = null;
    await eachLimited([...entries.keys()], FINISH_CONCURRENCY, async (i) => {
      // the store is away: the rest would each wait for the call timeout
      if (failure instanceof StoreUnavailableError) return;
      try {
        if (await this.take(entries[i], outcomes[i])) stored += 1;
        finished.push(entries[i].id);
      } catch (err) {
        if (failure === null || err instanceof StoreUnavailableError) failure = err;
      }
    });
    if (stored > 0) this.onStored();
    await this.group.acknowledge(finished);
    if (failure !== null) {
      this.ownPending = true;
      throw failure;
    }
  }

  /** Finishes one entry: stored (true), or moved to the dead-letter stream (false). */
  private async take(entry: StreamEntry, accepted: PromiseSettledResult<EntryOutcome>): Promise<boolean> {
    let outcome: EntryOutcome;
    if (accepted.status === 'fulfilled') outcome = accepted.value;
    else {
      const err = accepted.reason as unknown;
      if (err instanceof StoreUnavailableError) throw err;
      // A fault of wxreach with this entry: kept in the dead-letter stream with the reason rather than retried forever.
      this.log.error('stream entry failed', { stream: this.group.stream, entry: entry.id, err });
      outcome = { refused: { code: 'internal', message: err instanceof Error ? err.message : String(err) } };
    }
    if ('id' in outcome) return true;
    const { code, message, details } = outcome.refused;
    const error = `${code}: ${message}${details === undefined ? '' : ` ${JSON.stringify(details)}`}`;
    await this.group.appendDeadLetter({ ...entry.fields, error, entry: entry.id });
    this.log.warn('stream entry refused; moved to the dead-letter stream', { stream: this.group.stream, deadLetters: this.group.deadLetters, entry: entry.id, error });
    return false;
  }

  /** The entry's notification (parsed) and its idempotency key, or why it cannot be one. */
  private decode(entry: StreamEntry): DecodedEntry | { refused: EntryRefusal } {
    const json = entry.fields[NOTIFICATION_FIELD];
    if (json === undefined) {
      return { refused: { code: 'invalid_entry', message: `no field "${NOTIFICATION_FIELD}": XADD ${this.group.stream} * ${NOTIFICATION_FIELD} '<json>' [${KEY_FIELD} <key>]` } };
    }
    if (Buffer.byteLength(json, 'utf8') > this.settings.maxEntryBytes) {
      return { refused: { code: 'body_too_large', message: `the notification is larger than ${this.settings.maxEntryBytes} bytes` } };
    }
    let notification: unknown;
    try {
      notification = JSON.parse(json);
    } catch {
      return { refused: { code: 'invalid_json', message: `field "${NOTIFICATION_FIELD}" is not valid JSON` } };
    }
    const own = entry.fields[KEY_FIELD];
    return { notification, key: { value: own ?? `${this.group.stream}/${entry.id}`, field: KEY_FIELD } };
  }
}
