import { MemoryStore } from './memory-store';
import type { RedisConnectionOptions } from './redis-connection';
import { RedisStore } from './redis-store';
import type { Store } from './store';

export interface StoreConfig extends RedisConnectionOptions {
  /** One Redis: `redis://` or `rediss://` URL. */
  redisUrl?: string | null;
  /** A Redis Cluster: some of its nodes, each "host:port". */
  redisClusterNodes?: readonly string[] | null;
  /** Namespace of every Redis key. Default 'wxr'. */
  prefix?: string;
  /** See RedisStoreOptions.shardsPerAccount: never change it for a deployment with data. */
  shardsPerAccount?: number;
  /** See RedisStoreOptions.indexSweepIntervalMs. */
  indexSweepIntervalMs?: number;
}

/**
 * The store a configuration asks for: a Redis Cluster when nodes are given, one Redis for a URL,
 * process memory (demo mode, tests) when neither is. Both at once is a configuration error.
 */
export async function connectStore(config: StoreConfig): Promise<Store> {
  const { redisUrl, redisClusterNodes, ...options } = config;
  const cluster = redisClusterNodes && redisClusterNodes.length > 0 ? redisClusterNodes : null;
  if (redisUrl && cluster) throw new Error('give either a Redis URL or Redis Cluster nodes, not both');
  if (cluster) return RedisStore.connect({ ...options, clusterNodes: cluster });
  if (redisUrl) return RedisStore.connect({ ...options, url: redisUrl });
  return new MemoryStore({ shardsPerAccount: options.shardsPerAccount });
}
