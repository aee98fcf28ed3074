/** Latency figures of a bench, in milliseconds. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** The middle value of unsorted `values` (the upper one of an even count). */
export const median = (values: readonly number[]): number => percentile([...values].sort((a, b) => a - b), 50);

/** "1.79× (by round: 1.77×, 1.78×, 2.41×)": the ratio of the medians of `a` and `b`, then of each round's pair. */
export const describeRatio = (a: readonly number[], b: readonly number[]): string =>
  `${(median(a) / median(b)).toFixed(2)}× (by round: ${a.map((x, i) => `${(x / b[i]).toFixed(2)}×`).join(', ')})`;

/** "p50 1.23 ms, p95 … ms, p99 … ms" of unsorted samples (sorted in place). */
export function describeLatencies(samples: number[], ps: readonly number[] = [50, 95, 99]): string {
  samples.sort((a, b) => a - b);
  return ps.map((p) => `p${p} ${percentile(samples, p).toFixed(2)} ms`).join(', ');
}

/** Milliseconds since `t0` (from process.hrtime.bigint()). */
export const msSince = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

export const perSecond = (count: number, ms: number): number => Math.round((count * 1000) / ms);

/** Per `per`, the calls that grew from `before` to `after`, most first. */
export function deltaPer(before: Record<string, number>, after: Record<string, number>, per: number): (readonly [string, number])[] {
  return Object.entries(after)
    .map(([k, v]) => [k, (v - (before[k] ?? 0)) / per] as const)
    .filter(([, v]) => v >= 0.005)
    .sort((a, b) => b[1] - a[1]);
}

/** "36.00 (evalsha 3.00, hgetall 2.00, …)": the total per `per` of the calls that grew, then each. */
export function describeDelta(rows: readonly (readonly [string, number])[]): string {
  const total = rows.reduce((sum, [, v]) => sum + v, 0);
  return `${total.toFixed(2)} (${rows.map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')})`;
}

/** Redis commands whose time (INFO commandstats) counts the commands their script called. */
const SCRIPT_COMMANDS = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro']);

/**
 * "evalsha 19.8, hset 3.2, zadd 2.5 µs; the scripts' own work (Lua, decoding their arguments)
 * 8.1 µs": Redis's time by command (deltaPer of RedisStats.commandStats' micros), then the scripts' time
 * less the other commands'. That last figure holds where the other commands all ran inside the
 * scripts, as in batch intake, and is left out when no script ran.
 */
export function describeCommandTime(rows: readonly (readonly [string, number])[]): string {
  const scripts = rows.filter(([k]) => SCRIPT_COMMANDS.has(k)).reduce((sum, [, v]) => sum + v, 0);
  const others = rows.filter(([k]) => !SCRIPT_COMMANDS.has(k)).reduce((sum, [, v]) => sum + v, 0);
  const own = scripts > 0 ? `; the scripts' own work (Lua, decoding their arguments) ${(scripts - others).toFixed(1)} µs` : '';
  return `${rows.map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')} µs${own}`;
}

/** The slowest answers of a fixed-rate run, as the bursts they came in. */
export interface SlowBursts {
  /** Answers slower than the p95. */
  slow: number;
  bursts: number;
  /** The burst with the most slow answers: how many, from the first's planned moment to the last's (ms), and the slowest (ms). */
  largest: { answers: number; spanMs: number; maxMs: number };
}

/**
 * Answers slower than the p95 of `latencies` (in the order they were planned, `perMs` a
 * millisecond), gathered into bursts: one that was planned within `gapMs` of the slow answer
 * before it belongs to its burst. Many answers to a burst point at a stall (a collection, a
 * process waiting for a core) rather than answers that are slow each on their own.
 */
export function slowBursts(latencies: ArrayLike<number>, perMs: number, gapMs = 10): SlowBursts {
  const p95 = percentile(Array.from(latencies).sort((a, b) => a - b), 95);
  const bursts: Array<{ first: number; last: number; answers: number; maxMs: number }> = [];
  for (let i = 0; i < latencies.length; i++) {
    if (!(latencies[i] > p95)) continue;
    const current = bursts[bursts.length - 1];
    if (current && (i - current.last) / perMs <= gapMs) {
      current.last = i;
      current.answers += 1;
      current.maxMs = Math.max(current.maxMs, latencies[i]);
    } else bursts.push({ first: i, last: i, answers: 1, maxMs: latencies[i] });
  }
  const largest = bursts.reduce((a, b) => (b.answers > a.answers ? b : a), { first: 0, last: 0, answers: 0, maxMs: 0 });
  return {
    slow: bursts.reduce((sum, b) => sum + b.answers, 0),
    bursts: bursts.length,
    largest: { answers: largest.answers, spanMs: (largest.last - largest.first) / perMs, maxMs: largest.maxMs },
  };
}

/** "its 499 answers over the p95 came in 85 bursts, the largest 41 answers over 36 ms, up to 18.3 ms" */
export function describeSlowBursts({ slow, bursts, largest }: SlowBursts): string {
  return `its ${slow} answers over the p95 came in ${bursts} bursts, the largest ${largest.answers} answers over ${largest.spanMs.toFixed(0)} ms, up to ${largest.maxMs.toFixed(1)} ms`;
}
