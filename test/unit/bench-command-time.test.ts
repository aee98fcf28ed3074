import { describeCommandTime } from '../../bench/lib/stats';

// bench:intake prints Redis's time per notice by command, and what its scripts spend beyond the
// commands they call (their time counts those commands too).

test("a script's own work is its time less the commands it called", () => {
  const rows = [
    ['evalsha', 20],
    ['zadd', 4],
    ['hset', 3.25],
    ['expire', 1.75],
  ] as const;
  expect(describeCommandTime(rows)).toBe("evalsha 20.0, zadd 4.0, hset 3.3, expire 1.8 µs; the scripts' own work (Lua, decoding their arguments) 11.0 µs");
});

test('without a script, the commands alone', () => {
  expect(describeCommandTime([['zadd', 3.7], ['hset', 2.7]])).toBe('zadd 3.7, hset 2.7 µs');
});
