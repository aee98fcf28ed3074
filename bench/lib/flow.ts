import { msSince } from './stats';
import { runTimed, until } from './pool';
import type { HistoryEntry, StoredRecord } from '../../src/store/store';
import { describeCalls, type BenchStackBase } from './stack';

export interface Accepted {
  ids: string[];
  /** Per request, ms. */
  latencies: number[];
  /** Wall time of the whole accept run, ms. */
  ms: number;
}

/** POSTs `count` notifications, `concurrency` at a time, over the stack's keep-alive agent. */
export async function acceptAll(stack: BenchStackBase, count: number, concurrency: number, body: (i: number) => unknown): Promise<Accepted> {
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
export async function untilAllTerminal(stack: BenchStackBase, timeoutMs: number, everyMs = 20): Promise<void> {
  let size = -1;
  await until(
    async () => (size = (await stack.store.scheduleInfo()).size) === 0,
    everyMs,
    timeoutMs,
    async () => `${size} notifications still on the schedule; ${JSON.stringify(stack.emulator.control.stats().callbacks)}`,
  );
}

/** Pushes (receipts, user messages) the service acknowledged, over every account: the emulator's counters. */
export function acknowledgedPushes(stack: BenchStackBase): number {
  return stack.appids.reduce((sum, appid) => sum + stack.emulator.control.account(appid).stats().callbacks.delivered, 0);
}

/**
 * For runs where every notice ends with its receipt: waits until the service has acknowledged
 * `count` more pushes than `since`, polling the emulator only (no Redis command, so the command
 * counts are the service's), then until the due schedule is empty.
 */
export async function untilReceipted(stack: BenchStackBase, since: number, count: number, timeoutMs: number): Promise<void> {
  const start = Date.now();
  await until(
    async () => acknowledgedPushes(stack) - since >= count,
    20,
    timeoutMs,
    async () => `${acknowledgedPushes(stack) - since} of ${count} receipts acknowledged; ${describeCalls(stack)}`,
  );
  await untilAllTerminal(stack, Math.max(1000, timeoutMs - (Date.now() - start)));
}

/** The record of `id` (of any account) from the store, or null. */
export async function readRecord(stack: BenchStackBase, id: string): Promise<StoredRecord | null> {
  const account = stack.store.accountOfId(id);
  return account === null ? null : stack.store.forAccount(account).get(id);
}

/** Status → count over `ids`, read from the store (after the timed part). */
export async function countStatuses(stack: BenchStackBase, ids: readonly string[], concurrency = 64): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  await runTimed(ids.length, concurrency, async (i) => {
    const status = (await readRecord(stack, ids[i]))?.fields.status ?? '(gone)';
    counts[status] = (counts[status] ?? 0) + 1;
  });
  return counts;
}

/**
 * Milliseconds from the first history entry with status `from` to the first with status `to`
 * (millisecond resolution), or null when either is missing.
 */
export function stepMs(history: readonly HistoryEntry[], from: string, to: string): number | null {
  const start = history.find((h) => h.status === from);
  const end = history.find((h) => h.status === to);
  return start && end ? Date.parse(end.at) - Date.parse(start.at) : null;
}

/**
 * Accept → `final` latency (ms) of every k-th id, from the records' histories in the store (the
 * `queued` entry's time to the first `final` entry's time).
 */
export async function sampleLatencies(stack: BenchStackBase, ids: readonly string[], samples: number, final: string): Promise<{ latencies: number[]; missing: number }> {
  const step = Math.max(1, Math.floor(ids.length / samples));
  const picked = ids.filter((_, i) => i % step === 0).slice(0, samples);
  const latencies: number[] = [];
  let missing = 0;
  await runTimed(picked.length, 16, async (i) => {
    const ms = stepMs((await readRecord(stack, picked[i]))?.history ?? [], 'queued', final);
    if (ms === null) missing++;
    else latencies.push(ms);
  });
  return { latencies, missing };
}
