import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from 'redis';

const connectClient = (url: string) => createClient({ url, socket: { reconnectStrategy: false } });

export interface ThrowawayRedis {
  url: string;
  /** A plain client for measuring (INFO, DBSIZE); the service has its own. */
  client: ReturnType<typeof connectClient>;
  /** `INFO memory` → used_memory in bytes. */
  usedMemory(): Promise<number>;
  /** `INFO commandstats` → calls per command (lower case), this bench's own INFO calls included. */
  commandCalls(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (released again before it is used: good enough for a bench). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * A redis-server child on a free port, persistence off, in a temp dir; `stop()` (or this process
 * exiting) kills it and removes the dir.
 */
export async function startRedisServer(): Promise<ThrowawayRedis> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'wxreach-bench-redis-'));
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', path.join(dir, 'redis.log')],
    { stdio: 'ignore' },
  );
  const spawnError = new Promise<never>((_resolve, reject) => child.once('error', (err) => reject(new Error(`cannot start redis-server (is it on PATH?): ${err.message}`))));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  let client: ReturnType<typeof connectClient>;
  for (;;) {
    client = connectClient(url);
    client.on('error', () => undefined);
    try {
      await Promise.race([client.connect(), spawnError]);
      break;
    } catch (err) {
      if (Date.now() > deadline || child.exitCode !== null || (err as Error).message.startsWith('cannot start')) {
        killOnExit();
        throw err;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  let stopping = false;
  // A bench whose Redis vanished would otherwise wait forever on queued commands.
  child.once('exit', (code, signal) => {
    if (stopping) return;
    console.error(`redis-server (pid ${child.pid}, port ${port}) exited unexpectedly: ${signal ?? `code ${code}`}; see ${dir}/redis.log. Giving up.`);
    process.exit(1);
  });
  return {
    url,
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
    async stop() {
      stopping = true;
      await client.quit().catch(() => undefined);
      const exited = new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
      child.kill('SIGTERM');
      await exited;
      process.off('exit', killOnExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
