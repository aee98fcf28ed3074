import { RedisCluster } from '../../src/dev/redis-cluster';
import { RedisServer } from '../../src/dev/redis-server';
import type { StoreConfig } from '../../src/store/connect-store';

/** `single`: one redis-server; `cluster`: a local Redis Cluster of 3 masters (no replicas). */
export type RedisKind = 'single' | 'cluster';

export const REDIS_KINDS: readonly RedisKind[] = ['single', 'cluster'];

/** A Redis only this bench uses, on 127.0.0.1, gone with its folder after `stop()`. */
export interface ThrowawayRedis {
  kind: RedisKind;
  /** `redis://…` of every server (the masters of a cluster), for measuring each. */
  urls: string[];
  /** How the service's store reaches it (what main makes of REDIS_URL / REDIS_CLUSTER_NODES). */
  store: Pick<StoreConfig, 'redisUrl' | 'redisClusterNodes'>;
  /** "one redis-server" / "a local 3-master Redis Cluster". */
  description: string;
  stop(): Promise<void>;
}

// A bench whose Redis vanished would otherwise wait forever on queued commands.
const giveUp = (description: string) => {
  console.error(`${description}. Giving up.`);
  process.exit(1);
};

export async function launchThrowawayRedis(kind: RedisKind): Promise<ThrowawayRedis> {
  if (kind === 'single') {
    const server = await RedisServer.launch({ onUnexpectedExit: giveUp });
    return { kind, urls: [server.url], store: { redisUrl: server.url }, description: 'one redis-server', stop: () => server.stop() };
  }
  const cluster = await RedisCluster.launch({ masters: 3, onUnexpectedExit: giveUp });
  return {
    kind,
    urls: cluster.nodes.map((node) => `redis://${node}`),
    store: { redisClusterNodes: cluster.nodes },
    description: 'a local 3-master Redis Cluster',
    stop: () => cluster.stop(),
  };
}
