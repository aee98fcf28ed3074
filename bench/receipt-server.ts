import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';
import { startReceiptServer, type ReceiptServerOptions } from './lib/receipt-servers';

/**
 * Child process of bench/receipts.ts: starts one server (argv[2]: its options as JSON), tells the
 * parent its URL over IPC, and on the parent's word starts and stops V8's CPU profiler (what
 * `node --cpu-prof` runs, here around the measured runs only: argv[3] is the profile's folder),
 * answers `usage` with the CPU time it has used so far (and what its Redis has done, if it has one), and exits on `stop`.
 */
async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '') as ReceiptServerOptions;
  const profileDir = process.argv[3];
  const server = await startReceiptServer(options);
  const session = new Session();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => session.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result))));
  process.on('message', (message) => {
    if (message === 'profile-start' && profileDir) {
      session.connect();
      void post('Profiler.enable')
        .then(() => post('Profiler.start'))
        .then(() => process.send?.('profiling'));
    } else if (message === 'profile-stop' && profileDir) {
      void post('Profiler.stop').then((result) => {
        mkdirSync(profileDir, { recursive: true });
        const file = path.join(profileDir, `${options.kind}-${process.pid}.cpuprofile`);
        writeFileSync(file, JSON.stringify((result as { profile: unknown }).profile));
        session.disconnect();
        process.send?.('profiled');
      });
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
