import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync, statSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { createClient } from 'redis';

export const ROOT = path.join(__dirname, '../..');
export const MAIN = path.join(ROOT, 'dist/src/main.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Builds dist/ (tsc -p tsconfig.build.json) unless dist/src/main.js is newer than every file in
 * src/ and config/. Type errors elsewhere (bench/) do not stop tsc from emitting, so the build
 * counts as good when dist/src/main.js ends up newer than the sources.
 */
export function buildIfStale(): void {
  const sources = Math.max(newestMtime(path.join(ROOT, 'src')), newestMtime(path.join(ROOT, 'config')));
  const built = (() => {
    try {
      return statSync(MAIN).mtimeMs;
    } catch {
      return 0;
    }
  })();
  if (built > sources) return;
  const r = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
  if (statSync(MAIN).mtimeMs <= sources) throw new Error(`tsc -p tsconfig.build.json did not produce ${MAIN}:\n${r.stdout}\n${r.stderr}`);
}

export async function waitForPing(port: number, deadline: number): Promise<void> {
  for (;;) {
    const client = createClient({ socket: { port, host: '127.0.0.1', reconnectStrategy: false } });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.ping(); // LOADING (AOF replay) is an error, so this waits for the replay too
      await client.close();
      return;
    } catch (err) {
      client.destroy();
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Resolves after `ms` or when `p` settles, whichever is first, leaving no timer behind. */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

const exitOf = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => child.once('exit', () => resolve()));

/**
 * A redis-server child with the append-only file on, `appendfsync always`: every write is in the
 * AOF (written and fsynced) before Redis answers it, so a SIGKILL loses nothing that any client
 * was told had happened. A restart on the same port and dir replays the AOF.
 */
export class AofRedis {
  private child: ChildProcess | undefined;
  restarts = 0;

  constructor(
    readonly port: number,
    readonly dir: string,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const args = [
      '--port', String(this.port),
      '--bind', '127.0.0.1',
      '--dir', this.dir,
      '--save', '',
      '--appendonly', 'yes',
      '--appendfsync', 'always',
      '--logfile', path.join(this.dir, 'redis.log'),
    ];
    this.child = spawn('redis-server', args, { stdio: 'ignore' });
    await waitForPing(this.port, Date.now() + 10_000);
  }

  /** SIGKILL, like a crash (no shutdown hook, no final rewrite); resolves once it is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child) return;
    const gone = exitOf(child);
    child.kill('SIGKILL');
    await gone;
  }

  async crashAndRestart(downMs: number): Promise<number> {
    await this.kill();
    await new Promise((r) => setTimeout(r, downMs));
    const t0 = Date.now();
    await this.start();
    this.restarts += 1;
    return Date.now() - t0;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child) return;
    const gone = exitOf(child);
    child.kill('SIGTERM');
    await within(gone, 3000);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await gone;
    }
  }
}

/** One wxreach instance: the built server (`node dist/src/main.js`) on a fixed port, its output in a log file. */
export class WxreachProcess {
  private child: ChildProcess | undefined;
  private log: WriteStream | undefined;
  starts = 0;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: Record<string, string>,
    readonly logFile: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  async start(timeoutMs = 15_000): Promise<void> {
    if (!this.log) {
      this.log = createWriteStream(this.logFile, { flags: 'a' });
      this.log.on('error', () => {});
    }
    this.starts += 1;
    this.log.write(`{"chaos":"start ${this.name} #${this.starts}","at":"${new Date().toISOString()}"}\n`);
    const child = spawn(process.execPath, [MAIN], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...this.env, PORT: String(this.port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const log = this.log;
    let seen = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} did not start within ${timeoutMs} ms:\n${seen.slice(-4000)}`)), timeoutMs);
      const onData = (d: Buffer) => {
        if (!log.writableEnded) log.write(d);
        if (seen.length < 100_000) seen += d.toString();
        if (seen.includes('"message":"wxreach listening"')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${code ?? signal}) before listening:\n${seen.slice(-4000)}`));
      });
    });
    // After start-up only the log file gets the output.
    child.removeAllListeners('exit');
    child.once('exit', (code, signal) => {
      log.write(`{"chaos":"${this.name} exited","code":${JSON.stringify(code)},"signal":${JSON.stringify(signal)},"at":"${new Date().toISOString()}"}\n`);
      if (this.child === child) this.child = undefined;
    });
  }

  /** SIGKILL: no shutdown, work in hand is abandoned mid-step. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child) return;
    this.log?.write(`{"chaos":"SIGKILL ${this.name}","at":"${new Date().toISOString()}"}\n`);
    const gone = exitOf(child);
    child.kill('SIGKILL');
    await gone;
  }

  /** SIGTERM (graceful), SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child) {
      const gone = exitOf(child);
      child.kill('SIGTERM');
      await within(gone, graceMs);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await gone;
      }
    }
    const log = this.log;
    this.log = undefined;
    if (log) await new Promise<void>((resolve) => log.end(() => resolve()));
  }
}
