/** Latency figures of a bench, in milliseconds. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

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
