import { connectRedisStats, type RedisStats } from '../../bench/lib/redis-stats';
import { testRedisUrl } from '../helpers/harness';

// The benches read Redis's commands per notice, and bench:intake their time, from INFO
// commandstats: a format they no longer parse must fail here, not print nothing.

let stats: RedisStats;
beforeAll(async () => (stats = await connectRedisStats([testRedisUrl()])));
afterAll(() => stats.close());

it('counts the calls of each command and the time they ran', async () => {
  const before = await stats.commandStats();
  // TIME: a command no other test sends, so the count is this test's own
  for (let i = 0; i < 20; i++) await stats.clients[0].time();
  const after = await stats.commandStats();
  expect(after.calls.time - (before.calls.time ?? 0)).toBe(20);
  expect(after.micros.time).toBeGreaterThanOrEqual(before.micros.time ?? 0);
  expect(Number.isFinite(after.micros.time)).toBe(true);
  expect(await stats.commandCalls()).toEqual(expect.objectContaining({ time: after.calls.time }));
});
