import { answerParent, childArgs } from './lib/child-server';
import { startReceiptServer, type ReceiptServerOptions } from './lib/receipt-servers';

/**
 * Child process of bench/receipts.ts: starts one server (its options from the parent) and answers
 * the parent over IPC (see bench/lib/child-server.ts); its profile covers the measured runs only.
 */
async function main(): Promise<void> {
  const { options, profileDir } = childArgs<ReceiptServerOptions>();
  answerParent(await startReceiptServer(options), profileDir);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
