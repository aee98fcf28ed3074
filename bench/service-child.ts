import { createLogger } from '../src/log/logger';
import { startService } from '../src/service';
import { connectStore } from '../src/store/connect-store';
import { answerParent, childArgs } from './lib/child-server';
import type { ServiceChildOptions } from './lib/stack';

/**
 * Child process of a bench stack whose service runs in a process of its own, as deployed: one
 * wxreach instance (HTTP server and work loop) from the config the parent hands it (its Redis
 * from redisUrl / redisClusterNodes / redisPrefix, connected as main connects it), logging as main
 * does (the config's level, info by default, to stdout, which the parent reads), answering the
 * parent over IPC (bench/lib/child-server.ts).
 */
async function main(): Promise<void> {
  const {
    options: { config, workLoop },
    profileDir,
  } = childArgs<ServiceChildOptions>();
  const store = await connectStore({ redisUrl: config.redisUrl, redisClusterNodes: config.redisClusterNodes, prefix: config.redisPrefix });
  const service = await startService({ config, store, log: createLogger({ level: config.logLevel }) });
  if (!workLoop) await service.loop.stop();
  answerParent(
    {
      url: service.url,
      async close() {
        await service.stop();
        await store.close();
      },
    },
    profileDir,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
