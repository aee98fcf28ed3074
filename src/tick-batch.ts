/**
 * Calls that arrive in the same turn of the event loop, carried out as one: `add` gathers the item,
 * and once the loop has turned (under load, every reply Redis sent meanwhile has been handled by
 * then, so the items of many callers go together) `flush` takes everything gathered and gives a
 * promise per item, which `add` settles with. At most `max` items go in one flush: a full batch
 * goes at once.
 */
export class TickBatch<T, R = void> {
  private waiting: Array<{ item: T; resolve(result: R): void; reject(err: unknown): void }> = [];
  private scheduled = false;

  constructor(
    private readonly flush: (items: T[]) => ReadonlyArray<Promise<R>>,
    private readonly max = Infinity,
  ) {}

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
    const batch = this.waiting;
    if (batch.length === 0) return;
    this.waiting = [];
    let results: ReadonlyArray<Promise<R>>;
    try {
      results = this.flush(batch.map((w) => w.item));
    } catch (err) {
      for (const w of batch) w.reject(err);
      return;
    }
    batch.forEach((w, i) => results[i].then(w.resolve, w.reject));
  }
}

/** `flush` for a TickBatch whose items all settle with one call: that call's promise for each. */
export const together =
  <T>(call: (items: T[]) => Promise<void>) =>
  (items: T[]): Array<Promise<void>> => {
    const done = call(items);
    return items.map(() => done);
  };
