import { ConfigError, loadConfig } from './config/load';
import type { Config } from './config/schema';
import { startDemo } from './demo';
import { createLogger } from './log/logger';
import { startService } from './service';
import { MemoryStore } from './store/memory-store';
import { RedisStore } from './store/redis-store';
import type { Store } from './store/store';

/** `npm start`: load config, connect the store, start HTTP and the work loop; demo mode without an AppID. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger({ level: config.logLevel, secrets: [config.wechat.appSecret, config.wechat.aesKey, ...config.apiKeys] });

  let store: Store;
  if (config.redisUrl) {
    store = await RedisStore.connect({ url: config.redisUrl, prefix: config.redisPrefix, onError: (err) => log.error('redis error', { err }) });
  } else {
    log.warn('REDIS_URL is not set: using the in-memory store; state is lost on exit and instances cannot share work');
    store = new MemoryStore();
  }
  if (config.apiKeys.length === 0) log.warn('WXREACH_API_KEYS is not set: the /v1 API accepts requests without a key');

  const demo = config.wechat.appId ? null : await startDemo(config);
  const service = await startService({ config: demo?.config ?? config, store, log, host: process.env.HOST ?? '0.0.0.0' });
  if (demo) await demo.ready(service.url);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    await service.stop();
    await demo?.close();
    await store.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(`wxreach failed to start: ${(err as Error).message}`);
  process.exit(1);
});
