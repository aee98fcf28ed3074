import { startReceiptServer, type ReceiptServerOptions } from './lib/receipt-servers';

/**
 * Child process of bench/receipts.ts: starts one server (argv[2]: its options as JSON), tells the
 * parent its URL over IPC, and exits normally on `stop` (so `--cpu-prof` writes its profile).
 */
async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '') as ReceiptServerOptions;
  const server = await startReceiptServer(options);
  process.on('message', (message) => {
    if (message !== 'stop') return;
    void server.close().finally(() => process.exit(0));
  });
  process.send?.({ url: server.url });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
