import { msSince } from './stats';
import { runTimed, until } from './pool';
import type { BenchStack } from './stack';

export interface Accepted {
  ids: string[];
  /** Per request, ms. */
  latencies: number[];
  /** Wall time of the whole accept run, ms. */
  ms: number;
}

/** POSTs `count` notifications, `concurrency` at a time, over the stack's keep-alive agent. */
export async function acceptAll(stack: BenchStack, count: number, concurrency: number, body: (i: number) => unknown): Promise<Accepted> {
  const ids: string[] = new Array(count);
  const t0 = process.hrtime.bigint();
  const latencies = await runTimed(count, concurrency, async (i) => {
    ids[i] = await stack.enqueue(body(i));
  });
  return { ids, latencies, ms: msSince(t0) };
}

/**
 * Waits until the due schedule is empty: every accepted notification is in a terminal status
 * (a queued, awaiting_receipt, fallback_pending or awaiting_interaction one is always on it).
 * One ZCARD per poll, so measuring costs next to nothing.
 */
export async function untilAllTerminal(stack: BenchStack, timeoutMs: number, everyMs = 20): Promise<void> {
  let size = -1;
  await until(
    async () => (size = (await stack.store.scheduleInfo()).size) === 0,
    everyMs,
    timeoutMs,
    async () => `${size} notifications still on the schedule; ${JSON.stringify(stack.emulator.control.stats().callbacks)}`,
  );
}

/** Status → count over `ids`, read from the store (after the timed part). */
export async function countStatuses(stack: BenchStack, ids: readonly string[], concurrency = 64): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  await runTimed(ids.length, concurrency, async (i) => {
    const account = stack.store.accountOfId(ids[i]);
    const status = (account === null ? null : await stack.store.forAccount(account).get(ids[i]))?.fields.status ?? '(gone)';
    counts[status] = (counts[status] ?? 0) + 1;
  });
  return counts;
}

/**
 * Accept → `final` latency (ms) of every k-th id, from the history the API returns (the
 * `queued` entry's time to the first `final` entry's time; millisecond resolution).
 */
export async function sampleLatencies(stack: BenchStack, ids: readonly string[], samples: number, final: string): Promise<{ latencies: number[]; missing: number }> {
  const step = Math.max(1, Math.floor(ids.length / samples));
  const picked = ids.filter((_, i) => i % step === 0).slice(0, samples);
  const latencies: number[] = [];
  let missing = 0;
  await runTimed(picked.length, 16, async (i) => {
    const { history } = await stack.get(picked[i]);
    const start = history.find((h) => h.status === 'queued');
    const end = history.find((h) => h.status === final);
    if (start && end) latencies.push(Date.parse(end.at) - Date.parse(start.at));
    else missing++;
  });
  return { latencies, missing };
}
