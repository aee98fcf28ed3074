import type { BucketCount, CounterReader, ReadResolution } from '../store/counter-buckets';
import { overPatience, quantileMs } from './answer-histogram';

/**
 * The statistics as GET /v1/stats and /v1/stats/callbacks answer them, read from the time-bucketed
 * counters (store/counter-buckets.ts): summed over the shards and accounts, and for day buckets
 * over the hours of each UTC day.
 */

export type Bucket = 'minute' | 'hour' | 'day';

const BUCKET_MS: Record<Bucket, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
/** How each bucket size is read (day buckets: the hour resolution summed per day by the store). */
const RESOLUTION: Record<Bucket, ReadResolution> = { minute: 'minute', hour: 'hour', day: 'day' };

/** A range answers at most this many buckets. */
export const MAX_BUCKETS = 1500;
/** Without `bucket`: minutes up to 2 hours, hours up to 3 days, then days. */
const DEFAULT_BUCKET_UP_TO: ReadonlyArray<[number, Bucket]> = [
  [2 * 3_600_000, 'minute'],
  [3 * 86_400_000, 'hour'],
];

/** A range that cannot be answered: `field` names the query parameter at fault. */
export class StatsRangeError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'StatsRangeError';
  }
}

export interface StatsRange {
  from: number;
  to: number;
  bucket?: Bucket;
}

/** The buckets a range is answered in: whole UTC-aligned buckets from the one holding `from` to the one holding the last moment before `to`. */
export interface BucketPlan {
  bucket: Bucket;
  /** Start of each bucket, oldest first (epoch ms). */
  starts: number[];
  /** End of the last bucket. */
  end: number;
}

export function planBuckets({ from, to, bucket }: StatsRange): BucketPlan {
  if (!(to > from)) throw new StatsRangeError('to', '`to` must be after `from`');
  const size = bucket ?? DEFAULT_BUCKET_UP_TO.find(([upTo]) => to - from <= upTo)?.[1] ?? 'day';
  const ms = BUCKET_MS[size];
  const first = Math.floor(from / ms) * ms;
  const count = Math.ceil((to - first) / ms);
  if (count > MAX_BUCKETS) {
    throw new StatsRangeError('bucket', `the range holds ${count} ${size} buckets; at most ${MAX_BUCKETS}: choose a larger bucket or a shorter range`);
  }
  return { bucket: size, starts: Array.from({ length: count }, (_, i) => first + i * ms), end: first + count * ms };
}

type Counts = Record<string, number>;

const add = (counts: Counts, counter: string, n: number) => {
  counts[counter] = (counts[counter] ?? 0) + n;
};

/** Counts by bucket (oldest first, every bucket) and in total, from rows of any subject. */
function bySeries(plan: BucketPlan, rows: readonly BucketCount[]): { totals: Counts; series: Array<{ start: number; counts: Counts }> } {
  const ms = BUCKET_MS[plan.bucket];
  const first = plan.starts[0];
  const series = plan.starts.map((start) => ({ start, counts: {} as Counts }));
  const totals: Counts = {};
  for (const row of rows) {
    const slot = series[Math.floor((row.start - first) / ms)];
    if (!slot || row.n === 0) continue;
    add(slot.counts, row.counter, row.n);
    add(totals, row.counter, row.n);
  }
  return { totals, series };
}

export interface AccountStats {
  bucket: Bucket;
  totals: Counts;
  series: Array<{ start: number; counts: Counts }>;
  /** The funnel per account and template. */
  templates: Array<{ account: string; template: string; counts: Counts }>;
}

/** The notices' counters of `accounts` (each with its reader), of one template when given. */
export async function accountStats(accounts: ReadonlyArray<{ account: string; counters: CounterReader }>, range: StatsRange, template?: string): Promise<AccountStats> {
  const plan = planBuckets(range);
  const read = await Promise.all(accounts.map(async ({ account, counters }) => ({ account, rows: await counters.readCounters(RESOLUTION[plan.bucket], plan.starts[0], plan.end) })));
  const funnels = new Map<string, { account: string; template: string; counts: Counts }>();
  const rows: BucketCount[] = [];
  for (const { account, rows: mine } of read) {
    for (const row of mine) {
      if (template !== undefined && row.subject !== template) continue;
      rows.push(row);
      const id = `${account}\u0000${row.subject}`;
      let funnel = funnels.get(id);
      if (!funnel) funnels.set(id, (funnel = { account, template: row.subject, counts: {} }));
      add(funnel.counts, row.counter, row.n);
    }
  }
  const templates = [...funnels.values()].sort((a, b) => (a.account === b.account ? (a.template < b.template ? -1 : 1) : a.account < b.account ? -1 : 1));
  return { bucket: plan.bucket, ...bySeries(plan, rows), templates };
}

export interface CallbackStats {
  bucket: Bucket;
  answers: { count: number; p50Ms: number | null; p99Ms: number | null; over5s: number };
  byKind: Counts;
  series: Array<{ start: number; count: number; p99Ms: number | null }>;
}

/** The answers to WeChat's pushes (the deployment's counters `answers`, `le.<ms>`, `kind.<kind>`). */
export async function callbackStats(counters: CounterReader, range: StatsRange): Promise<CallbackStats> {
  const plan = planBuckets(range);
  const { totals, series } = bySeries(plan, await counters.readCounters(RESOLUTION[plan.bucket], plan.starts[0], plan.end));
  const byKind = Object.fromEntries(Object.entries(totals).flatMap(([counter, n]) => (counter.startsWith('kind.') ? [[counter.slice(5), n]] : [])));
  return {
    bucket: plan.bucket,
    answers: { count: totals.answers ?? 0, p50Ms: quantileMs(totals, 0.5), p99Ms: quantileMs(totals, 0.99), over5s: overPatience(totals) },
    byKind,
    series: series.map(({ start, counts }) => ({ start, count: counts.answers ?? 0, p99Ms: quantileMs(counts, 0.99) })),
  };
}
