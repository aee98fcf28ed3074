import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { API_KEY, APP } from './harness';

const MAIN = path.join(__dirname, '../../dist/src/main.js');
const EMULATOR_CLI = path.join(__dirname, '../../dist/src/emulator/cli.js');

/** The environment of a wxreach process for the test account, against WeChat at `apiBase` and the test Redis. */
export function serverEnv(apiBase: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    REDIS_URL: process.env.TEST_REDIS_URL as string,
    WECHAT_APPID: APP.appId,
    WECHAT_APPSECRET: APP.appSecret,
    WECHAT_TOKEN: APP.token,
    WECHAT_API_BASE: apiBase,
    WXREACH_API_KEYS: API_KEY,
    ...extra,
  };
}

export interface Running {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the first match of `pattern` in stdout/stderr. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

/** Runs the built server (dist/) as its own process with exactly this environment. */
export const runServer = (env: Record<string, string>): Running => runBuilt(MAIN, env);

/** Runs the built emulator CLI (`npm run emulator`) with exactly this environment. */
export const runEmulatorCli = (env: Record<string, string>): Running => runBuilt(EMULATOR_CLI, env);

function runBuilt(script: string, env: Record<string, string>): Running {
  const child = spawn(process.execPath, [script], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const listeners: Array<() => void> = [];
  const onData = (d: Buffer) => {
    out += d.toString();
    listeners.forEach((l) => l());
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    waitFor(pattern, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${pattern} in output:\n${out}`)), timeoutMs);
        const check = () => {
          const m = out.match(pattern);
          if (m) {
            clearTimeout(timer);
            resolve(m);
          }
        };
        listeners.push(check);
        check();
      });
    },
  };
}

/** SIGTERM, then the exit code. */
export async function stopServer(r: Running) {
  r.child.kill('SIGTERM');
  return r.exited;
}

