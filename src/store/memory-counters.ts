import {
  countedNames,
  countsOf,
  expiresAtSeconds,
  fieldOf,
  periodsWithin,
  periodTotals,
  slotOf,
  withoutIndex,
  type BucketCount,
  type DeploymentCounters,
  type ReadResolution,
  type Resolution,
  type Tally,
} from './counter-buckets';
import { TtlMap } from './ttl-map';

const RESOLUTIONS: readonly Resolution[] = ['minute', 'hour'];

/** Time-bucketed counters in process memory, laid out as in Redis (see counter-buckets.ts). */
export class MemoryCounters implements DeploymentCounters {
  private readonly hashes: TtlMap<Map<string, number>>;

  constructor(now: () => number) {
    this.hashes = new TtlMap(now);
  }

  sweep(): void {
    this.hashes.sweep();
  }

  /** Adds `counts` of `subject` to both resolutions' buckets of `at`. */
  add(at: number, subject: string, counts: Readonly<Record<string, number>>, keepSeconds: number): void {
    if (Object.keys(counts).length === 0) return;
    for (const resolution of RESOLUTIONS) {
      const { period, index } = slotOf(resolution, at);
      const key = `${resolution}:${period}`;
      let hash = this.hashes.get(key);
      if (!hash) this.hashes.set(key, (hash = new Map()), expiresAtSeconds(resolution, period, keepSeconds) * 1000);
      for (const [counter, n] of Object.entries(counts)) {
        const field = fieldOf(index, subject, counter);
        hash.set(field, (hash.get(field) ?? 0) + n);
      }
    }
  }

  /** A record's tally, for a record leaving `current` (undefined: created) whose subject is known. */
  tally(t: Tally, subject: string, current: string | undefined): void {
    const counts: Record<string, number> = {};
    for (const name of countedNames(t.counters, current)) counts[name] = (counts[name] ?? 0) + 1;
    this.add(t.at, subject, counts, t.keepSeconds);
  }

  async addCounters(at: number, counts: Readonly<Record<string, number>>, keepSeconds: number): Promise<void> {
    this.add(at, '', counts, keepSeconds);
  }

  async readCounters(resolution: ReadResolution, from: number, to: number): Promise<BucketCount[]> {
    const stored = resolution === 'day' ? 'hour' : resolution;
    return periodsWithin(stored, from, to).flatMap((period) => {
      const hash = this.hashes.get(`${stored}:${period}`);
      if (!hash) return [];
      if (resolution !== 'day') return countsOf(stored, period, hash, from, to);
      const totals = new Map<string, number>();
      for (const [field, n] of hash) totals.set(withoutIndex(field), (totals.get(withoutIndex(field)) ?? 0) + n);
      return periodTotals(stored, period, totals, from, to);
    });
  }
}
