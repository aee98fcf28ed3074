/**
 * How long wxreach took to answer WeChat's pushes, as a histogram with fixed bounds (ms): cheap to
 * count (one counter per answer), cheap to sum over instances and time. Percentiles are read from
 * it, so they are the upper bound of the bucket the percentile falls in (never below the truth, at
 * most one bucket above); WeChat gives up after 5 s, so the bounds are finest where it matters.
 */
export const ANSWER_BOUNDS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2000, 3000, 4000, 5000, 10000] as const;

/** WeChat stops waiting for an answer after this long (and sends the push again). */
export const WECHAT_PATIENCE_MS = 5000;

/** The counter of the bucket an answer of `ms` falls in: `le.<bound>`, or `le.inf` above the last bound. */
export function answerBucket(ms: number): string {
  const bound = ANSWER_BOUNDS_MS.find((b) => ms <= b);
  return `le.${bound ?? 'inf'}`;
}

/** The bound of a bucket counter; the last bucket reads as the last bound (answers took at least that long). */
const boundOf = (counter: string): number => (counter === 'le.inf' ? ANSWER_BOUNDS_MS[ANSWER_BOUNDS_MS.length - 1] : Number(counter.slice(3)));

/** Of bucket counts (`le.<bound>` → n): the `q` quantile's bucket bound, or null with no answers. */
export function quantileMs(buckets: Readonly<Record<string, number>>, q: number): number | null {
  const sorted = Object.entries(buckets)
    .filter(([counter, n]) => counter.startsWith('le.') && n > 0)
    .map(([counter, n]) => ({ bound: boundOf(counter), over: counter === 'le.inf', n }))
    .sort((a, b) => a.bound - b.bound || Number(a.over) - Number(b.over));
  const total = sorted.reduce((sum, b) => sum + b.n, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const b of sorted) {
    seen += b.n;
    if (seen >= rank) return b.bound;
  }
  return sorted[sorted.length - 1].bound;
}

/** Answers slower than WeChat waits: every bucket above its patience. */
export function overPatience(buckets: Readonly<Record<string, number>>): number {
  return Object.entries(buckets)
    .filter(([counter]) => counter.startsWith('le.') && (counter === 'le.inf' || Number(counter.slice(3)) > WECHAT_PATIENCE_MS))
    .reduce((sum, [, n]) => sum + n, 0);
}
