/**
 * Time-bucketed counters: what the statistics are made of (GET /v1/stats, /v1/stats/callbacks).
 *
 * Layout, the same in every store: two resolutions, each a hash per larger period, so that a count
 * costs one HINCRBY per resolution and a read of any range touches few keys:
 *
 * - minute resolution: one hash per UTC hour, field `<minute 0-59>|<subject>|<counter>`;
 * - hour resolution: one hash per UTC day, field `<hour 0-23>|<subject>|<counter>`.
 *
 * 24 hours of an account read 2 day hashes per shard; 2 hours of minutes read 3 hour hashes; day
 * buckets are summed from the hour resolution. The subject is a template (a notice's `template` as
 * given) or '' (the deployment's own figures). A hash expires `keepSeconds` after the end of its
 * period, which is set when a count creates a field (HINCRBY answered 1), so almost never.
 */

export type Resolution = 'minute' | 'hour';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Per resolution: how long a bucket is, and how long the hash holding a period of them is. */
const SIZES: Record<Resolution, { bucketMs: number; periodMs: number }> = {
  minute: { bucketMs: MINUTE_MS, periodMs: HOUR_MS },
  hour: { bucketMs: HOUR_MS, periodMs: DAY_MS },
};

/** One counter of one subject in one bucket. */
export interface BucketCount {
  /** Start of the bucket (epoch ms). */
  start: number;
  subject: string;
  counter: string;
  n: number;
}

/** A counter a tally adds 1 to: its name, or its name and the only status it counts when leaving. */
export type TallyCounter = string | { name: string; onlyFrom: string };

/**
 * Counters a record's creation or move adds, in the same atomic step, to the buckets of `at`
 * (see NotificationRecords). A counter with `onlyFrom` counts only when the record was in that
 * status before the move.
 */
export interface Tally<Subject extends string | { field: string } = string | { field: string }> {
  at: number;
  /** What the counts are about; `{ field }`: the value of that field of the record (one more read). */
  subject: Subject;
  counters: readonly TallyCounter[];
  /** How long the buckets are kept after their period ends. */
  keepSeconds: number;
}

/**
 * How a read groups the counts: the minute or the hour resolution as stored, or `day`: the hour
 * resolution with each UTC day's hash summed over its hours into one bucket (in Redis, inside the
 * server, so a week of an account answers a few dozen fields per shard instead of thousands).
 */
export type ReadResolution = Resolution | 'day';

/** Reads counters back: every count of `resolution` in buckets that start within [from, to). */
export interface CounterReader {
  readCounters(resolution: ReadResolution, from: number, to: number): Promise<BucketCount[]>;
}

/** The deployment's own counters, outside any record (the answers to WeChat's pushes). */
export interface DeploymentCounters extends CounterReader {
  /** Adds `counts` (counter → n) of subject '' to the buckets of `at`, in one step. */
  addCounters(at: number, counts: Readonly<Record<string, number>>, keepSeconds: number): Promise<void>;
}

/** Where a count at `at` goes at `resolution`: the period's hash (its number since the epoch) and the field's index. */
export function slotOf(resolution: Resolution, at: number): { period: number; index: number } {
  const { bucketMs, periodMs } = SIZES[resolution];
  const period = Math.floor(at / periodMs);
  return { period, index: Math.floor((at - period * periodMs) / bucketMs) };
}

/** The periods (hash numbers) whose buckets may start within [from, to). */
export function periodsWithin(resolution: Resolution, from: number, to: number): number[] {
  const { periodMs } = SIZES[resolution];
  const periods: number[] = [];
  for (let p = Math.floor(from / periodMs); p * periodMs < to; p++) periods.push(p);
  return periods;
}

/** When the hash of `period` expires (epoch seconds): `keepSeconds` after the period ends. */
export function expiresAtSeconds(resolution: Resolution, period: number, keepSeconds: number): number {
  return Math.ceil(((period + 1) * SIZES[resolution].periodMs) / 1000) + keepSeconds;
}

/** A field name: the bucket's index in its period, the subject, the counter. */
export const fieldOf = (index: number, subject: string, counter: string): string => `${index}|${subject}|${counter}`;

/**
 * The counts of one period's hash (or of several summed, field by field) whose bucket starts
 * within [from, to). Counters never hold `|` (see the lifecycle's counter names); the subject is
 * what lies between the first and the last one.
 */
export function countsOf(resolution: Resolution, period: number, fields: Iterable<[string, string | number]>, from: number, to: number): BucketCount[] {
  const { bucketMs, periodMs } = SIZES[resolution];
  const counts: BucketCount[] = [];
  for (const [field, value] of fields) {
    const first = field.indexOf('|');
    const last = field.lastIndexOf('|');
    if (first < 0 || last === first) continue;
    const start = period * periodMs + Number(field.slice(0, first)) * bucketMs;
    if (!(start >= from && start < to)) continue;
    counts.push({ start, subject: field.slice(first + 1, last), counter: field.slice(last + 1), n: Number(value) });
  }
  return counts;
}

/**
 * The counts of a whole period's hash summed over its buckets (a `day` read of the hour
 * resolution), given as `subject|counter` → n: one bucket at the period's start, when that start
 * is within [from, to).
 */
export function periodTotals(resolution: Resolution, period: number, totals: Iterable<[string, string | number]>, from: number, to: number): BucketCount[] {
  const start = period * SIZES[resolution].periodMs;
  if (!(start >= from && start < to)) return [];
  const counts: BucketCount[] = [];
  for (const [key, value] of totals) {
    const bar = key.lastIndexOf('|');
    if (bar < 0) continue;
    counts.push({ start, subject: key.slice(0, bar), counter: key.slice(bar + 1), n: Number(value) });
  }
  return counts;
}

/** A field without its bucket index: `subject|counter`. */
export const withoutIndex = (field: string): string => field.slice(field.indexOf('|') + 1);

/** The counters of `tally` that count for a record leaving `current` (undefined: a creation). */
export function countedNames(counters: readonly TallyCounter[], current: string | undefined): string[] {
  return counters.flatMap((c) => (typeof c === 'string' ? [c] : c.onlyFrom === current ? [c.name] : []));
}
