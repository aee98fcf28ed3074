import { slowBursts } from '../../bench/lib/stats';

// bench:receipts tells a stall (many slow answers planned together) from answers slow one by one.

test('slow answers planned within the gap of each other form one burst; the largest is reported', () => {
  // 2 answers a millisecond: 1,000 planned over 500 ms, 1 ms each but for two stalls
  const latencies = new Array<number>(1000).fill(1);
  for (let i = 100; i < 140; i++) latencies[i] = 15; // a 20 ms stall: 40 slow answers in a row
  for (const i of [300, 310, 318]) latencies[i] = 6; // three answers 5 and 4 ms apart: one burst
  for (const i of [600, 700]) latencies[i] = 8; // 50 ms apart: two bursts
  latencies[141] = 20; // 1 ms after the stall's last: the same burst, its slowest
  const r = slowBursts(latencies, 2, 10);
  expect(r).toEqual({ slow: 46, bursts: 4, largest: { answers: 41, spanMs: 20.5, maxMs: 20 } });
});

test('answers all alike have none over their p95', () => {
  expect(slowBursts(new Array<number>(100).fill(2), 2)).toEqual({ slow: 0, bursts: 0, largest: { answers: 0, spanMs: 0, maxMs: 0 } });
});
