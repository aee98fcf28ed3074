import { answerBucket, overPatience, quantileMs } from '../../src/delivery/answer-histogram';
import { MAX_BUCKETS, planBuckets } from '../../src/delivery/stats';

const HOUR = 3_600_000;
const T = Date.UTC(2026, 10, 30, 10, 17, 30);

describe('the buckets of a statistics range', () => {
  it('chooses minutes up to 2 h, hours up to 3 days, then days, aligned to UTC', () => {
    expect(planBuckets({ from: T - 2 * HOUR, to: T })).toMatchObject({ bucket: 'minute', starts: expect.any(Array) });
    expect(planBuckets({ from: T - 2 * HOUR, to: T }).starts).toHaveLength(121);
    expect(planBuckets({ from: T - 2 * HOUR - 1, to: T }).bucket).toBe('hour');
    expect(planBuckets({ from: T - 72 * HOUR, to: T }).bucket).toBe('hour');
    const days = planBuckets({ from: T - 72 * HOUR - 1, to: T });
    expect([days.bucket, new Date(days.starts[0]).toISOString(), days.starts.length, new Date(days.end).toISOString()]).toEqual([
      'day',
      '2026-11-27T00:00:00.000Z',
      4,
      '2026-12-01T00:00:00.000Z',
    ]);
  });

  it(`refuses an empty range and more than ${MAX_BUCKETS} buckets, naming the parameter`, () => {
    expect(() => planBuckets({ from: T, to: T })).toThrow(expect.objectContaining({ field: 'to' }));
    expect(() => planBuckets({ from: T - 26 * HOUR, to: T, bucket: 'minute' })).toThrow(expect.objectContaining({ field: 'bucket' }));
    expect(planBuckets({ from: T - 24 * HOUR, to: T, bucket: 'minute' }).starts).toHaveLength(1441);
  });
});

describe('the answer-time histogram', () => {
  it('puts an answer in the first bucket whose bound holds it', () => {
    expect([0, 5, 5.1, 4999, 5000, 5001, 10_000, 60_000].map(answerBucket)).toEqual(['le.5', 'le.5', 'le.10', 'le.5000', 'le.5000', 'le.10000', 'le.10000', 'le.inf']);
  });

  it('reads percentiles as the bound of the bucket they fall in, and counts what WeChat did not wait for', () => {
    const counts = { answers: 100, 'le.5': 50, 'le.25': 45, 'le.1000': 3, 'le.10000': 1, 'le.inf': 1 };
    expect([quantileMs(counts, 0.5), quantileMs(counts, 0.95), quantileMs(counts, 0.98), quantileMs(counts, 0.99), quantileMs(counts, 1)]).toEqual([5, 25, 1000, 10000, 10000]);
    expect(overPatience(counts)).toBe(2);
    expect(quantileMs({ answers: 0 }, 0.5)).toBeNull();
  });
});
