import { ConfigError, hasAccounts, loadConfig } from './config/load';
import type { Config } from './config/schema';
import { startDemo } from './demo';
import { createLogger } from './log/logger';
import { startService, STOP_DEADLINE_MS } from './service';
import { parseApiKey } from './http/auth';
import { platformFor } from './platform-wiring';
import { connectStore } from './store/connect-store';

/** `npm start`: load config, connect the store, start HTTP and the work loop; demo mode without any account. */
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
  const log = createLogger({ level: config.logLevel, secrets: [config.wechat.appSecret, config.wechat.aesKey, config.component?.appSecret, config.component?.aesKey, ...[...config.apiKeys, ...config.operatorKeys].map((k) => parseApiKey(k).key)] });

  const store = await connectStore({
    redisUrl: config.redisUrl,
    redisClusterNodes: config.redisClusterNodes,
    prefix: config.redisPrefix,
    onError: (err) => log.error('redis error', { err }),
  });
  if (!config.redisUrl && !config.redisClusterNodes) {
    log.warn('neither REDIS_URL nor REDIS_CLUSTER_NODES is set: using the in-memory store; state is lost on exit and instances cannot share work');
  }
  if (config.apiKeys.length + config.operatorKeys.length === 0) log.warn('WXREACH_API_KEYS is not set: the /v1 API accepts requests without a key');

  const demo = hasAccounts(config) ? null : await startDemo(config);
  const { component } = config;
  const platform = component ? platformFor(component, config.publicUrl) : undefined;
  const service = await startService({ config: demo?.config ?? config, store, log, host: process.env.HOST ?? '0.0.0.0', platform });
  if (demo) await demo.ready(service.url);

  // Stop accepting, answer what is in flight, let the notices in hand finish, then exit 0. A second
  // signal, or a stop that overruns its deadline, ends the process at once with exit code 1.
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      log.warn('second signal while stopping: exiting now', { signal });
      process.exit(1);
    }
    stopping = true;
    log.info('stopping', { signal });
    setTimeout(() => {
      log.error('stopping took too long: exiting now');
      process.exit(1);
    }, STOP_DEADLINE_MS + 5_000).unref();
    await service.stop();
    await demo?.close();
    await store.close();
    log.info('stopped');
    process.exit(0);
  };
  const onSignal = (signal: string) => {
    stop(signal).catch((err: unknown) => {
      log.error('stopping failed', { err });
      process.exit(1);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

main().catch((err: unknown) => {
  console.error(`wxreach failed to start: ${(err as Error).message}`);
  process.exit(1);
});
