import { createClient, createCluster } from 'redis';
import type { RedisTarget } from '../../src/store/redis-connection';

/** A plain client of the test's own on one Redis or a cluster, to look at and tamper with keys. */
export interface RedisAdmin {
  /** Every key whose name contains `text`, sorted (on a cluster: of every master). */
  keysContaining(text: string): Promise<string[]>;
  /** How many keys containing `text` each master holds (one Redis: one count). */
  keysPerMaster(text: string): Promise<number[]>;
  ttl(key: string): Promise<number>;
  /** Deletes the keys one by one (keys of different slots cannot go in one DEL on a cluster). */
  del(keys: string[]): Promise<void>;
  set(key: string, value: string): Promise<void>;
  zRem(key: string, member: string): Promise<number>;
  zScore(key: string, member: string): Promise<number | null>;
  close(): Promise<void>;
}

const quiet = { socket: { reconnectStrategy: false as const } };

export async function redisAdmin(target: RedisTarget): Promise<RedisAdmin> {
  const single = 'url' in target ? createClient({ url: target.url, ...quiet }) : null;
  const cluster = 'clusterNodes' in target ? createCluster({ rootNodes: target.clusterNodes.map((node) => ({ url: `redis://${node}` })), defaults: quiet }) : null;
  const client = (single ?? cluster)!;
  client.on('error', () => undefined);
  await client.connect();
  const nodes = async () => (cluster ? Promise.all(cluster.masters.map((master) => cluster.nodeClient(master))) : [single!]);
  const keysOf = async (node: Awaited<ReturnType<typeof nodes>>[number], text: string) => {
    const found: string[] = [];
    for await (const keys of node.scanIterator({ MATCH: `*${text}*`, COUNT: 1000 })) found.push(...keys);
    return found;
  };
  return {
    async keysContaining(text) {
      return (await Promise.all((await nodes()).map((node) => keysOf(node, text)))).flat().sort();
    },
    async keysPerMaster(text) {
      return Promise.all((await nodes()).map(async (node) => (await keysOf(node, text)).length));
    },
    ttl: (key) => client.ttl(key),
    async del(keys) {
      await Promise.all(keys.map((key) => client.del(key)));
    },
    async set(key, value) {
      await client.set(key, value);
    },
    zRem: (key, member) => client.zRem(key, member),
    zScore: (key, member) => client.zScore(key, member),
    close: () => client.close(),
  };
}
