import { countsOf, expiresAtSeconds, periodsWithin, periodTotals, slotOf, type BucketCount, type DeploymentCounters, type ReadResolution, type Resolution, type Tally } from './counter-buckets';
import type { RedisConnection } from './redis-connection';
import type { DeploymentKeys } from './redis-keys';
import { addCounters, sumCounterPeriod } from './scripts/counters';

/** Names the counter hash of a period (a shard's, or the deployment's). */
type CounterKeys = { counters(resolution: Resolution, period: number): string };

/**
 * The two counter hashes a tally at `at` writes (KEYS of the record scripts). Without a tally
 * they are still named, so the scripts' own keys keep their places; nothing touches them.
 */
export function tallyKeys(keys: CounterKeys, tally: Tally | undefined): [string, string] {
  const at = tally?.at ?? 0;
  return [keys.counters('minute', slotOf('minute', at).period), keys.counters('hour', slotOf('hour', at).period)];
}

/** The tally's arguments as scripts/counters.ts `tally` reads them ('0' for none). */
export function tallyArgs(tally: Tally | undefined): string[] {
  if (!tally || tally.counters.length === 0) return ['0'];
  const minute = slotOf('minute', tally.at);
  const hour = slotOf('hour', tally.at);
  const subject = typeof tally.subject === 'string' ? [tally.subject, ''] : ['', tally.subject.field];
  return [
    String(tally.counters.length),
    ...subject,
    String(minute.index),
    String(hour.index),
    String(expiresAtSeconds('minute', minute.period, tally.keepSeconds)),
    String(expiresAtSeconds('hour', hour.period, tally.keepSeconds)),
    ...tally.counters.map((c) => (typeof c === 'string' ? c : `${c.onlyFrom}>${c.name}`)),
  ];
}

/**
 * Every count of `resolution` within [from, to) in the hashes of `places` (the shards of an
 * account, or the deployment), summed over the places: one call per place and period, all sent at
 * once (node-redis pipelines the commands of one tick; a cluster sends each to its master): an
 * HGETALL, or for a day read a script that sums the hash over its hours in Redis. The hashes of one
 * period are summed field by field before any field is parsed.
 */
export async function readCounters(redis: RedisConnection, places: readonly CounterKeys[], resolution: ReadResolution, from: number, to: number): Promise<BucketCount[]> {
  const stored: Resolution = resolution === 'day' ? 'hour' : resolution;
  const periods = periodsWithin(stored, from, to);
  const readHash = async (key: string): Promise<Array<[string, string]>> => {
    if (resolution !== 'day') return Object.entries(await redis.call('readCounters', (r) => r.hGetAll(key)));
    const flat = (await redis.run(sumCounterPeriod, [key], [])) as string[];
    const pairs: Array<[string, string]> = [];
    for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i], flat[i + 1]]);
    return pairs;
  };
  const hashes = await Promise.all(periods.map((period) => Promise.all(places.map((place) => readHash(place.counters(stored, period))))));
  return periods.flatMap((period, i) => {
    const summed = new Map<string, number>();
    for (const hash of hashes[i]) for (const [field, n] of hash) summed.set(field, (summed.get(field) ?? 0) + Number(n));
    return resolution === 'day' ? periodTotals(stored, period, summed, from, to) : countsOf(stored, period, summed, from, to);
  });
}

/** The deployment's own counters in Redis, under its hash tag. */
export class RedisDeploymentCounters implements DeploymentCounters {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: DeploymentKeys,
  ) {}

  async addCounters(at: number, counts: Readonly<Record<string, number>>, keepSeconds: number): Promise<void> {
    const pairs = Object.entries(counts).flatMap(([counter, n]) => [counter, String(n)]);
    if (pairs.length === 0) return;
    const minute = slotOf('minute', at);
    const hour = slotOf('hour', at);
    await this.redis.run(
      addCounters,
      [this.keys.counters('minute', minute.period), this.keys.counters('hour', hour.period)],
      [String(minute.index), String(hour.index), String(expiresAtSeconds('minute', minute.period, keepSeconds)), String(expiresAtSeconds('hour', hour.period, keepSeconds)), ...pairs],
    );
  }

  readCounters(resolution: ReadResolution, from: number, to: number): Promise<BucketCount[]> {
    return readCounters(this.redis, [this.keys], resolution, from, to);
  }
}
