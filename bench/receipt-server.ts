import { startProfiling } from './lib/cpu-profile';
import { startReceiptServer, type ReceiptServerOptions } from './lib/receipt-servers';

/**
 * Child process of bench/receipts.ts: starts one server (argv[2]: its options as JSON), tells the
 * parent its URL over IPC, and on the parent's word starts and stops V8's CPU profiler (around the
 * measured runs only; written to `wxreach.cpuprofile` in the folder argv[3], always that name so a
 * new run replaces the last one's profile instead of adding to the ones the parent sums), answers
 * `usage` with the CPU time it has used so far (and what its Redis has done, if it has one), and
 * exits on `stop`.
 */
async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '') as ReceiptServerOptions;
  const profileDir = process.argv[3];
  const server = await startReceiptServer(options);
  let profiling: ReturnType<typeof startProfiling> | undefined;
  process.on('message', (message) => {
    if (message === 'profile-start' && profileDir) {
      profiling = startProfiling();
      void profiling.then(() => process.send?.('profiling'));
    } else if (message === 'profile-stop' && profileDir && profiling) {
      void profiling.then((p) => p.stop(profileDir, 'wxreach')).then(() => process.send?.('profiled'));
    } else if (message === 'usage') {
      void (server.redis?.() ?? Promise.resolve(undefined)).then((redis) => process.send?.({ usage: { cpu: process.cpuUsage(), redis } }));
    } else if (message === 'stop') {
      void server.close().finally(() => process.exit(0));
    }
  });
  process.send?.({ url: server.url });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
