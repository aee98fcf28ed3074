import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from 'redis';
import { killChild, stopChild } from './child-process';
import { freePort } from './free-port';

export interface RedisServerOptions {
  /** Default: a free port. Restarts keep it. */
  port?: number;
  /** Where redis-server keeps its log (and the AOF). Default: a fresh temp folder that `stop()` removes; a given folder is kept. */
  dir?: string;
  /**
   * `none` (default): nothing survives a restart. `aof`: every write is in the append-only file,
   * written and fsynced, before Redis answers it, so a SIGKILL loses nothing any client was told
   * had happened, and a restart replays the file.
   */
  persistence?: 'none' | 'aof';
  /** More redis-server arguments, kept for restarts (e.g. cluster mode: see RedisCluster). */
  args?: readonly string[];
  /** Called when redis-server exits though nobody killed or stopped it (a crash, the OOM killer). */
  onUnexpectedExit?: (description: string) => void;
}

const START_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 3000;
const INSTALL_HINT = 'install it with `sudo apt-get install -y redis-server` (Debian/Ubuntu) or `brew install redis` (macOS)';

/**
 * The process id of the redis-server that answers PING on `port`, or null while none does (one
 * replaying its AOF answers LOADING: null too). The id tells our child from another server that
 * holds the port.
 */
async function pidAnswering(port: number): Promise<number | null> {
  const client = createClient({ socket: { port, host: '127.0.0.1', reconnectStrategy: false } });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    const pid = /^process_id:(\d+)/m.exec(await client.info('server'));
    return pid ? Number(pid[1]) : null;
  } catch {
    return null;
  } finally {
    client.destroy();
  }
}

/**
 * A private redis-server child on 127.0.0.1 for tests, benchmarks and the chaos run: it can be
 * crashed (SIGKILL), hung (SIGSTOP), restarted on the same port and folder, and stopped. If this
 * process exits without stopping it, it is killed rather than left behind.
 */
export class RedisServer {
  private child: ChildProcess | undefined;
  private restarted = 0;
  private readonly killOnExit = () => this.child?.kill('SIGKILL');

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly ownsDir: boolean,
    private readonly options: RedisServerOptions,
  ) {}

  /** Starts a redis-server and resolves once it answers PING. */
  static async launch(options: RedisServerOptions = {}): Promise<RedisServer> {
    const port = options.port ?? (await freePort());
    if (options.dir) mkdirSync(options.dir, { recursive: true });
    const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), 'wxreach-redis-'));
    const server = new RedisServer(port, dir, !options.dir, options);
    process.once('exit', server.killOnExit);
    try {
      await server.start();
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts after the first one. */
  get restarts(): number {
    return this.restarted;
  }

  get logFile(): string {
    return path.join(this.dir, 'redis.log');
  }

  private async start(): Promise<void> {
    if (this.child) throw new Error(`redis-server on port ${this.port} is running already`);
    const persistence = this.options.persistence === 'aof' ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--logfile', this.logFile, '--save', '', ...persistence, ...(this.options.args ?? [])];
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.child = child;
    const failed = new Promise<never>((_resolve, reject) => {
      child.once('error', (err) => reject(new Error(`cannot run redis-server (${err.message}): is it on PATH? ${INSTALL_HINT}`)));
      child.once('exit', (code, signal) => reject(new Error(`redis-server exited (${signal ?? `code ${code}`}) while starting:\n${this.logTail()}`)));
    });
    const answers = (async () => {
      const deadline = Date.now() + START_TIMEOUT_MS;
      while ((await pidAnswering(this.port)) !== child.pid) {
        if (Date.now() > deadline || this.child !== child) throw new Error(`redis-server did not answer PING on port ${this.port} within ${START_TIMEOUT_MS} ms:\n${this.logTail()}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    try {
      await Promise.race([answers, failed]);
    } catch (err) {
      this.child = undefined;
      if (child.pid !== undefined) await killChild(child); // no pid: it never ran
      throw err;
    }
    child.once('exit', (code, signal) => {
      if (this.child !== child) return; // kill() or stop()
      this.child = undefined;
      this.options.onUnexpectedExit?.(`redis-server (pid ${child.pid}, port ${this.port}) exited unexpectedly: ${signal ?? `code ${code}`}; see ${this.logFile}`);
    });
  }

  /** The last lines of redis-server's log, for an error message. */
  private logTail(): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-10).join('\n');
    } catch {
      return `(no log at ${this.logFile})`;
    }
  }

  /** SIGSTOP: the server keeps its sockets open but answers nothing (a hung host). */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** SIGKILL, like a crash (no shutdown, no final write); resolves once the process is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child) await killChild(child);
  }

  /** Starts it again on the same port and folder (after `kill()`); with `aof` it replays its file first. */
  async restart(): Promise<void> {
    await this.start();
    this.restarted += 1;
  }

  /** Kills it, leaves it down for `downMs`, restarts it; resolves with how long the restart took (ms). */
  async crashAndRestart(downMs: number): Promise<number> {
    await this.kill();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    const t0 = Date.now();
    await this.restart();
    return Date.now() - t0;
  }

  /** SIGTERM (SIGKILL if it lingers), then the temp folder goes; a folder left behind is only worth a warning. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child) await stopChild(child, STOP_GRACE_MS);
    process.off('exit', this.killOnExit);
    if (!this.ownsDir) return;
    try {
      rmSync(this.dir, { recursive: true, force: true, maxRetries: 3 });
    } catch (err) {
      console.warn(`could not remove ${this.dir}: ${(err as Error).message}`);
    }
  }
}
