import { createClient } from 'redis';

const connectClient = (url: string) => createClient({ url, socket: { reconnectStrategy: false } });

/** What a bench measures in its Redis, over a plain client of its own (the service has its own). */
export interface RedisStats {
  /** For other measurements (DBSIZE, SCAN, MEMORY USAGE). */
  client: ReturnType<typeof connectClient>;
  /** `INFO memory` → used_memory in bytes. */
  usedMemory(): Promise<number>;
  /** `INFO commandstats` → calls per command (lower case), this bench's own INFO calls included. */
  commandCalls(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export async function connectRedisStats(url: string): Promise<RedisStats> {
  const client = connectClient(url);
  client.on('error', () => undefined); // a failed command throws; the event adds nothing
  await client.connect();
  return {
    client,
    async usedMemory() {
      const info = await client.info('memory');
      const m = /^used_memory:(\d+)/m.exec(info);
      if (!m) throw new Error('INFO memory has no used_memory');
      return Number(m[1]);
    },
    async commandCalls() {
      const info = await client.info('commandstats');
      const calls: Record<string, number> = {};
      for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[m[1]] = Number(m[2]);
      return calls;
    },
    async close() {
      await client.quit().catch(() => undefined);
    },
  };
}
