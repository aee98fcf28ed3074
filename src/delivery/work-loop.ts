import type { Logger } from '../log/logger';
import type { Store } from '../store/store';
import type { Dispatcher } from './dispatcher';
import { fromFields, type Notification } from './notification';

export interface WorkLoopSettings {
  pollMs: number;
  leaseMs: number;
  batchSize: number;
  /** Notifications handled at once by this instance. */
  concurrency: number;
}

/**
 * Claims due notifications from the store with a short lease and hands them to the dispatcher.
 * Any number of instances can run one: a claim is atomic, and a crash leaves the claimed work due
 * again when its lease ends. Within this process, the notices of one user are handled one after
 * the other, in due order, so parked notices reach the user in the order they were sent.
 */
export class WorkLoop {
  private running = false;
  private active = 0;
  private readonly perUser = new Map<string, Promise<void>>();
  private wakeUp: (() => void) | null = null;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly store: Store,
    private readonly dispatcher: Dispatcher,
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
    this.wakeUp?.();
  }

  /** Stops claiming and waits for the notices in hand. */
  async stop(): Promise<void> {
    this.running = false;
    this.poke();
    await this.loop;
    await Promise.all([...this.perUser.values()]);
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }

  private async run(): Promise<void> {
    while (this.running) {
      const room = Math.min(this.settings.batchSize, this.settings.concurrency - this.active);
      if (room <= 0) {
        await this.pause(this.settings.pollMs);
        continue;
      }
      let ids: string[];
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
        await this.pause(this.settings.pollMs * 10);
        continue;
      }
      if (ids.length === 0) {
        await this.pause(this.settings.pollMs);
        continue;
      }
      const records = await Promise.all(ids.map((id) => this.load(id)));
      for (const n of records) if (n) this.enqueue(n);
    }
  }

  private async load(id: string): Promise<Notification | null> {
    try {
      const record = await this.store.get(id);
      if (record) return fromFields(id, record.fields, record.history);
    } catch (err) {
      this.log.error('cannot load claimed work', { id, err });
    }
    return null;
  }

  private enqueue(n: Notification): void {
    this.active += 1;
    const previous = this.perUser.get(n.openid) ?? Promise.resolve();
    const next = previous
      .then(() => this.dispatcher.handle(n.id))
      .catch((err) => this.log.error('dispatch failed; the notice is due again after its lease', { id: n.id, err }))
      .finally(() => {
        this.active -= 1;
        if (this.perUser.get(n.openid) === next) this.perUser.delete(n.openid);
        this.poke();
      });
    this.perUser.set(n.openid, next);
  }
}
