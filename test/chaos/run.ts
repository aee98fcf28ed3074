import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * The clock and bookkeeping of one chaos run: its folder (logs, config, AOF), its timeline of
 * events, how far the enqueueing has come (the faults are keyed to it), whether the run is still
 * on (background loops stop once the test is over, passed or not), and its teardown.
 */

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs `fn` over `items`, at most `width` at a time. */
export async function pool<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (i < items.length) await fn(items[i++]);
    }),
  );
}

export class ChaosRun {
  private readonly t0 = Date.now();
  private on = true;
  private readonly cleanups: Array<() => Promise<unknown>> = [];
  /** A fresh temp folder for everything the run writes. */
  readonly dir: string;
  readonly events: string[] = [];
  /** How many notices the enqueueing has started so far. */
  started = 0;

  constructor(name: string) {
    this.dir = mkdtempSync(path.join(tmpdir(), `wxreach-${name}-`));
  }

  get live(): boolean {
    return this.on;
  }

  /** Stops `fns` (processes, servers) at the end, the last one deferred first. */
  defer(...fns: Array<() => Promise<unknown>>): void {
    this.cleanups.push(...fns);
  }

  /**
   * The test is over: `until` throws, background loops stop, everything deferred is stopped. The
   * folder goes when the run passed, unless CHAOS_KEEP=1; otherwise its path is printed.
   */
  async end(passed: boolean): Promise<void> {
    this.on = false;
    for (const fn of this.cleanups.reverse()) await fn().catch(() => undefined);
    if (passed && !process.env.CHAOS_KEEP) rmSync(this.dir, { recursive: true, force: true });
    else console.log(`chaos: logs, config and AOF kept in ${this.dir}`);
  }

  /** Adds a line to the timeline, stamped with the time since the run began. */
  note(what: string): void {
    this.events.push(`+${this.seconds()} ${what}`);
  }

  seconds(): string {
    return `${((Date.now() - this.t0) / 1000).toFixed(1)} s`;
  }

  async until(cond: () => boolean): Promise<void> {
    while (!cond()) {
      if (!this.on) throw new Error('the chaos test ended');
      await sleep(10);
    }
  }

  /**
   * Calls `enqueue(i)` for i in 0..count-1, `width` at a time, the i-th no earlier than
   * i / count of `spreadMs` after the start: the faults land in the middle of a steady flow.
   */
  async enqueueSpread(count: number, spreadMs: number, width: number, enqueue: (i: number) => Promise<void>): Promise<void> {
    const start = Date.now();
    await pool(
      Array.from({ length: count }, (_, i) => i),
      width,
      async (i) => {
        this.started = Math.max(this.started, i + 1);
        const wait = start + (i * spreadMs) / count - Date.now();
        if (wait > 0) await sleep(wait);
        await enqueue(i);
      },
    );
  }
}
