import { WakeablePause } from '../wakeable-pause';
import type { Logger } from '../log/logger';
import type { DueSchedule, DueWork } from '../store/store';
import type { Dispatcher } from './dispatcher';

export interface WorkLoopSettings {
  pollMs: number;
  leaseMs: number;
  batchSize: number;
  /** Notifications handled at once by this instance. */
  concurrency: number;
}

/**
 * Claims due notifications of every account from the store with a short lease (fairly between
 * accounts: see DueSchedule.claimDue) and hands each to its account's dispatcher. Any number of
 * instances can run one: a claim is atomic, and a crash leaves the claimed work due again when its
 * lease ends.
 */
export class WorkLoop {
  private running = false;
  private readonly inHand = new Set<Promise<void>>();
  private readonly pauses = new WakeablePause();
  /** A poke since the current claim began: work may have become due after the claim looked. */
  private poked = false;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly store: DueSchedule,
    /** The dispatcher of an account. */
    private readonly dispatcherFor: (account: string) => Dispatcher,
    private readonly settings: WorkLoopSettings,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** New work is due now: claim it without waiting for the next poll. */
  poke(): void {
    this.poked = true;
    this.pauses.wake();
  }

  /** Stops claiming and waits for the notices in hand. */
  async stop(): Promise<void> {
    this.running = false;
    this.poke();
    await this.loop;
    await Promise.all([...this.inHand]);
  }

  private async run(): Promise<void> {
    while (this.running) {
      const room = Math.min(this.settings.batchSize, this.settings.concurrency - this.inHand.size);
      if (room <= 0) {
        await this.pauses.pause(this.settings.pollMs);
        continue;
      }
      let ids: DueWork[];
      this.poked = false;
      try {
        const claimedAt = this.now();
        ids = await this.store.claimDue(claimedAt, this.settings.leaseMs, room);
        // A claim that took long (Redis stalled, commands queued) may hold leases already run out
        // and handed to another instance: leave those to whoever holds them now.
        if (ids.length > 0 && this.now() - claimedAt > this.settings.leaseMs / 2) {
          this.log.warn('claim answered too late; leaving its work to the next claim', { count: ids.length });
          continue;
        }
      } catch (err) {
        this.log.error('cannot claim due work; retrying', { err });
        await this.pauses.pause(this.settings.pollMs * 10);
        continue;
      }
      if (ids.length === 0) {
        // a poke that came while the claim was under way is not lost to the pause
        if (!this.poked) await this.pauses.pause(this.settings.pollMs);
        continue;
      }
      for (const id of ids) this.dispatch(id);
    }
  }

  private dispatch({ account, id, record }: DueWork): void {
    const done = Promise.resolve()
      .then(() => this.dispatcherFor(account))
      .then((dispatcher) =>
        dispatcher.handle(id, record).catch(async (err) => {
          this.log.error('dispatch failed', { id, account, err });
          await dispatcher.stepFailed(id, err);
        }),
      )
      .catch((err) => this.log.error('cannot record the failed step; the notice is due again after its lease', { id, account, err }))
      .finally(() => {
        this.inHand.delete(done);
        this.poke();
      });
    this.inHand.add(done);
  }
}
