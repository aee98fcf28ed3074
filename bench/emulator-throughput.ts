import { measureEmulatorRate } from './lib/emulator-rate';
import { describeLatencies } from './lib/stats';

/**
 * How many template sends per second the emulator sustains, so it is never the bottleneck of a
 * wxreach benchmark. In-process emulator, keep-alive undici Agent, N concurrent senders, no
 * receipts by default; BENCH_RECEIPTS=1 sends them to a cheap in-process sink answering `success`.
 *   BENCH_SECONDS (default 10), BENCH_CONCURRENCY (default 64)
 */
async function main(): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 64);
  const receipts = process.env.BENCH_RECEIPTS === '1';
  const r = await measureEmulatorRate({ seconds, concurrency, receipts });
  console.log(`template sends: ${r.sends} in ${r.seconds.toFixed(1)} s, concurrency ${concurrency}, errors ${r.errors}, receipts ${receipts ? 'on' : 'off'}`);
  console.log(`throughput: ${r.perSecond} sends/s; latency ${describeLatencies(r.latencies, [50, 99])}`);
  if (receipts) console.log(`receipts delivered: ${r.receipts}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
