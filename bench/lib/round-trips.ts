import { readdirSync } from 'node:fs';
import path from 'node:path';
import { createClient } from 'redis';
import type { LuaScript } from '../../src/store/scripts/lua-script';

/**
 * Round trips to Redis, counted exactly with MONITOR: every command a client sent (a script call
 * counts once, whatever it does inside), apart from the commands its scripts ran (`[0 lua]`).
 * MONITOR slows Redis, so a bench counts with it over a separate small pass, never while timing.
 */
export interface RoundTripCount {
  /** Commands clients sent. */
  sent: number;
  /** Commands run inside scripts. */
  inside: number;
  /** What was sent, by name: scripts by their name, other commands in lower case. */
  byName: Record<string, number>;
}

/** The commands a bench itself sends to measure (not wxreach's). */
const OWN = new Set(['info', 'monitor', 'dbsize', 'scan', 'memory', 'ping', 'client', 'hello']);

/** sha1 → script name, for every script wxreach has (read from the compiled scripts folder). */
function scriptNames(): Map<string, string> {
  const dir = path.join(__dirname, '../../src/store/scripts');
  const names = new Map<string, string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.js'))) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- every module of the folder, known only at run time
    const exported = require(path.join(dir, file)) as Record<string, Partial<LuaScript>>;
    for (const s of Object.values(exported)) if (s && typeof s.sha1 === 'string' && typeof s.name === 'string') names.set(s.sha1, s.name);
  }
  return names;
}

/** Starts counting on every server of `urls` (one Redis, or each master of a cluster). */
export async function countRoundTrips(urls: readonly string[]): Promise<{ stop(): Promise<RoundTripCount> }> {
  const names = scriptNames();
  const count: RoundTripCount = { sent: 0, inside: 0, byName: {} };
  const clients = urls.map((url) => createClient({ url, socket: { reconnectStrategy: false } }));
  for (const client of clients) {
    client.on('error', () => undefined);
    await client.connect();
    await client.monitor((line: string) => {
      // `<time> [<db> <source>] "COMMAND" "arg" …`; the source is `lua` for commands run by a script
      const m = /^[\d.]+ \[\d+ (\S+)\] "([^"]+)"(?: "([^"]*)")?/.exec(line);
      if (!m) return;
      const command = m[2].toLowerCase();
      if (m[1] === 'lua') {
        count.inside += 1;
        return;
      }
      if (OWN.has(command)) return;
      const name = command === 'evalsha' && m[3] ? (names.get(m[3]) ?? 'evalsha (unknown script)') : command;
      count.sent += 1;
      count.byName[name] = (count.byName[name] ?? 0) + 1;
    });
  }
  return {
    async stop() {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      return count;
    },
  };
}

/** "12.40 sent (create 1.00, moveRecord 2.00, …), 40.2 inside scripts" per `per`. */
export function describeRoundTrips(c: RoundTripCount, per: number): string {
  const each = Object.entries(c.byName)
    .sort((a, b) => b[1] - a[1])
    .filter(([, n]) => n / per >= 0.005)
    .map(([name, n]) => `${name} ${(n / per).toFixed(2)}`);
  return `${(c.sent / per).toFixed(2)} sent (${each.join(', ')}); ${(c.inside / per).toFixed(2)} more run inside scripts`;
}
