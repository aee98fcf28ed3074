import { parentPort, workerData } from 'node:worker_threads';
import { connectStore } from '../../src/store/connect-store';
import { fillSlice, type FillSlice } from './notice-fill';

/**
 * A thread of the fill (see fillNotices): writes its slice through a store of its own on the
 * stack's Redis, posting its progress, then its result.
 */
async function main(): Promise<void> {
  const slice = workerData as FillSlice;
  // the key prefix startBenchStack connects the service's store with
  const store = await connectStore({ redisUrl: slice.redisUrl, prefix: 'bench' });
  try {
    const result = await fillSlice(store, slice, (n) => parentPort?.postMessage({ progress: n }));
    parentPort?.postMessage({ result });
  } finally {
    await store.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
