export interface TickBatchOptions {
  /** At most this many items go in one flush: a full batch goes at once (default: no bound). */
  max?: number;
  /**
   * At most this many flushes unsettled at a time (default: no bound). Items arriving while that
   * many are out wait for one to settle, then go together: under load the calls grow fewer and
   * larger by themselves, while an item arriving alone still goes at the next turn.
   */
  inFlight?: number;
}

/**
 * Calls that arrive in the same turn of the event loop, carried out as one: `add` gathers the item,
 * and once the loop has turned (under load, every reply Redis sent meanwhile has been handled by
 * then, so the items of many callers go together) `flush` takes everything gathered and gives a
 * promise per item, which `add` settles with.
 */
export class TickBatch<T, R = void> {
  private waiting: Array<{ item: T; resolve(result: R): void; reject(err: unknown): void }> = [];
  private scheduled = false;
  private running = 0;
  private readonly max: number;
  private readonly inFlight: number;

  constructor(
    private readonly flush: (items: T[]) => ReadonlyArray<Promise<R>>,
    { max = Infinity, inFlight = Infinity }: TickBatchOptions = {},
  ) {
    this.max = max;
    this.inFlight = inFlight;
  }

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (this.waiting.length >= this.max) this.run();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.run();
        });
      }
    });
  }

  private run(): void {
    while (this.waiting.length > 0 && this.running < this.inFlight) {
      const batch = this.waiting.length > this.max ? this.waiting.splice(0, this.max) : this.waiting.splice(0);
      let results: ReadonlyArray<Promise<R>>;
      try {
        results = this.flush(batch.map((w) => w.item));
      } catch (err) {
        for (const w of batch) w.reject(err);
        continue;
      }
      batch.forEach((w, i) => results[i].then(w.resolve, w.reject));
      if (this.inFlight !== Infinity) {
        this.running += 1;
        void Promise.allSettled(results).then(() => {
          this.running -= 1;
          this.run();
        });
      }
    }
  }
}

/** `flush` for a TickBatch whose items all settle with one call: that call's promise for each. */
export const together =
  <T>(call: (items: T[]) => Promise<void>) =>
  (items: T[]): Array<Promise<void>> => {
    const done = call(items);
    return items.map(() => done);
  };
