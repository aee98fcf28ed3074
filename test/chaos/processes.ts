import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync, statSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { killChild, stopChild } from '../../src/dev/child-process';

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

  /** How many lines of the log so far contain `text`. */
  countInLog(text: string): number {
    return readFileSync(this.logFile, 'utf8').split('\n').filter((line) => line.includes(text)).length;
  }

  /** "A: 3 error lines, 12 warn lines", for the report. */
  logSummary(): string {
    return `${this.name}: ${this.countInLog('"level":"error"')} error lines, ${this.countInLog('"level":"warn"')} warn lines`;
  }

  /** SIGKILL: no shutdown, work in hand is abandoned mid-step. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child) return;
    this.log?.write(`{"chaos":"SIGKILL ${this.name}","at":"${new Date().toISOString()}"}\n`);
    await killChild(child);
  }

  /** SIGTERM (graceful), SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child) await stopChild(child, graceMs);
    const log = this.log;
    this.log = undefined;
    if (log) await new Promise<void>((resolve) => log.end(() => resolve()));
  }
}
