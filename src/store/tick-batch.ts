/**
 * Calls that arrive in the same turn of the event loop, carried out as one: `add` gathers the item
 * and settles with the one `flush` of everything gathered until the loop turned (under load, every
 * reply Redis sent meanwhile has been handled by then, so the items of many callers go together).
 */
export class TickBatch<T> {
  private items: T[] = [];
  private flushed: Promise<void> | null = null;

  constructor(private readonly flush: (items: T[]) => Promise<void>) {}

  add(item: T): Promise<void> {
    this.items.push(item);
    this.flushed ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      const items = this.items;
      this.items = [];
      this.flushed = null;
      return this.flush(items);
    });
    return this.flushed;
  }
}
