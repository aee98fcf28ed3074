import { createClient } from 'redis';

const nodeClient = (host: string, port: number) => createClient({ socket: { host, port, reconnectStrategy: false } });

/** A short-lived plain client of one cluster node ("host:port"), for a look from outside. */
async function withNode<T>(node: string, fn: (client: ReturnType<typeof nodeClient>) => Promise<T>): Promise<T> {
  const [host, port] = node.split(':');
  const client = nodeClient(host, Number(port));
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    client.destroy();
  }
}

/** The position in `nodes` of the master that serves the slot of `key`. */
export async function masterOf(nodes: readonly string[], key: string): Promise<number> {
  const { slot, ranges } = await withNode(nodes[0], async (client) => ({ slot: await client.clusterKeySlot(key), ranges: await client.clusterSlots() }));
  const range = ranges.find((r) => r.from <= slot && slot <= r.to);
  const i = range ? nodes.indexOf(`${range.master.host}:${range.master.port}`) : -1;
  if (i < 0) throw new Error(`no master of ${nodes.join(', ')} serves slot ${slot} of ${key}`);
  return i;
}

/** How many keys the node holds. */
export const keyCount = (node: string): Promise<number> => withNode(node, (client) => client.dbSize());
