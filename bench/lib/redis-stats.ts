import { createClient } from 'redis';

const connectClient = (url: string) => createClient({ url, socket: { reconnectStrategy: false } });

type Client = ReturnType<typeof connectClient>;

/**
 * What a bench measures in its Redis, over plain clients of its own (the service has its own): one
 * per server, so on a Redis Cluster every figure is the sum over its masters.
 */
export interface RedisStats {
  /** One client per server (for DBSIZE, SCAN, MEMORY USAGE of one Redis). */
  clients: Client[];
  /** `INFO memory` → used_memory in bytes, summed. */
  usedMemory(): Promise<number>;
  /** `INFO commandstats` → calls per command (lower case), summed; this bench's own INFO calls included. */
  commandCalls(): Promise<Record<string, number>>;
  /**
   * `INFO commandstats` → per command, its calls (as commandCalls) and the µs Redis spent running
   * it, summed. The µs are wall-clock (Redis times each call), so a moment it waits for a core
   * counts. A script's entry (evalsha) counts the whole script, the commands it called included,
   * and they count again under their own names; reading, parsing and answering are in no entry.
   */
  commandStats(): Promise<CommandStats>;
  /** All commands each server has run, in the order of `clients`. */
  totalCallsByServer(): Promise<number[]>;
  /** `INFO cpu` → used_cpu_user + used_cpu_sys in µs, summed. */
  cpuMicros(): Promise<number>;
  close(): Promise<void>;
}

async function nodeUsedMemory(client: Client): Promise<number> {
  const info = await client.info('memory');
  const m = /^used_memory:(\d+)/m.exec(info);
  if (!m) throw new Error('INFO memory has no used_memory');
  return Number(m[1]);
}

/** Per command (lower case): its calls, and the µs they ran. */
export interface CommandStats {
  calls: Record<string, number>;
  micros: Record<string, number>;
}

/** `INFO commandstats` of one server. */
async function nodeCommandStats(client: Client): Promise<CommandStats> {
  const info = await client.info('commandstats');
  const calls: Record<string, number> = {};
  const micros: Record<string, number> = {};
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    calls[m[1]] = Number(m[2]);
    micros[m[1]] = Number(m[3]);
  }
  return { calls, micros };
}

/** Per key, the sum over `records`. */
function summed(records: readonly Record<string, number>[]): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const record of records) for (const [key, n] of Object.entries(record)) sum[key] = (sum[key] ?? 0) + n;
  return sum;
}

async function nodeCpuMicros(client: Client): Promise<number> {
  const info = await client.info('cpu');
  const seconds = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return Math.round((seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1e6);
}

/** Connects to each of `urls` (one Redis, or every master of a cluster). */
export async function connectRedisStats(urls: readonly string[]): Promise<RedisStats> {
  const clients = urls.map(connectClient);
  for (const client of clients) client.on('error', () => undefined); // a failed command throws; the event adds nothing
  await Promise.all(clients.map((client) => client.connect()));
  const commandStats = async (): Promise<CommandStats> => {
    const nodes = await Promise.all(clients.map(nodeCommandStats));
    return { calls: summed(nodes.map((node) => node.calls)), micros: summed(nodes.map((node) => node.micros)) };
  };
  return {
    clients,
    async usedMemory() {
      const bytes = await Promise.all(clients.map(nodeUsedMemory));
      return bytes.reduce((sum, b) => sum + b, 0);
    },
    async commandCalls() {
      return (await commandStats()).calls;
    },
    commandStats,
    async totalCallsByServer() {
      const nodes = await Promise.all(clients.map(nodeCommandStats));
      return nodes.map(({ calls }) => Object.values(calls).reduce((sum, n) => sum + n, 0));
    },
    async cpuMicros() {
      const micros = await Promise.all(clients.map(nodeCpuMicros));
      return micros.reduce((sum, us) => sum + us, 0);
    },
    async close() {
      await Promise.all(clients.map((client) => client.quit().catch(() => undefined)));
    },
  };
}
