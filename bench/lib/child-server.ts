import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { exitOf, stopChild } from '../../src/dev/child-process';
import { SERVICE_NODE_FLAGS } from '../../src/node-flags';
import { startProfiling } from './cpu-profile';

/**
 * A bench's server in a child process of its own, so that its CPU time and its CPU profile are its
 * own, and what the two processes say to each other over IPC. The child gets its options as JSON
 * (argv[2]) and, to be profiled, a folder (argv[3]); it says `{ url }` once it listens. Its stdout
 * is its log, as deployed: JSON lines a reader process of their own (grep, as a log shipper) reads,
 * handing the parent those at warn and error (`logLines`). The parent asks `usage` (answered
 * `{ usage: { cpu, redis } }`: the CPU time the child has used so far, and what its Redis has done
 * when it measures one), `profile-start` (`profiling`) and `profile-stop` (`profiled`: the profile
 * written to `wxreach.cpuprofile` in that folder, always that name so a new run replaces the last
 * one's instead of adding to the ones describeProfile sums), `answers-start` (`answering`: from then
 * on each answer of its HTTP server is timed, from the request's start to the response's finish, by
 * node:http's diagnostics channels) and `answers-stop` (`{ answers: ms[] }`, the times since), and
 * `stop` (it closes and exits).
 */

/** What a child's Redis has done so far: commands by name and CPU time (µs). */
export interface ChildRedisUsage {
  calls: Record<string, number>;
  cpuMicros: number;
}

/** A server as the child runs it. */
export interface ServedByChild {
  url: string;
  close(): Promise<void>;
  redis?(): Promise<ChildRedisUsage>;
}

/** The parent's handle on a running child. */
export interface ChildServer {
  child: ChildProcess;
  url: string;
  /** The warn and error lines the child logged so far (the first 1000). */
  logLines(): string[];
}

/** What `usage` answers: the child's CPU time (user + system, µs) so far, and its Redis's usage when it has one. */
export interface ChildUsage {
  cpuMicros: number;
  redis?: ChildRedisUsage;
}

const MAX_LOG_LINES = 1000;
/** A log line at warn or error (src/log/logger.ts writes `"level":"<name>"`), as grep -E reads it. */
const WARN_OR_ERROR_ERE = '"level":"(warn|error)"';

/**
 * Forks `script` (a built .js file) with `options` and resolves once it says where it listens. The
 * child runs with the Node.js flags wxreach is deployed with (src/node-flags.ts), whichever server
 * it plays: servers compared side by side get the same runtime.
 */
export async function forkServer(script: string, options: unknown, profileDir?: string, name = 'server'): Promise<ChildServer> {
  const args = [JSON.stringify(options), ...(profileDir ? [profileDir] : [])];
  const child = fork(script, args, { stdio: ['ignore', 'pipe', 'inherit', 'ipc'], execArgv: [...process.execArgv, ...SERVICE_NODE_FLAGS] });
  // The child's log goes to a reader process of its own, as to a log shipper: grep, keeping the
  // warn and error lines. Read by this process, the lines waited for its event loop, busy sending
  // the load, and the child was held on a full pipe (its profile showed the write waiting).
  const shipper = spawn('grep', ['--line-buffered', '-E', WARN_OR_ERROR_ERE], { stdio: [child.stdout!, 'pipe', 'inherit'] });
  child.stdout!.destroy(); // grep has the pipe now; a second reader here would take lines from it
  const lines: string[] = [];
  createInterface({ input: shipper.stdout! }).on('line', (line) => {
    if (lines.length < MAX_LOG_LINES) lines.push(line);
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.on('message', (m) => {
      if (typeof m === 'object' && m !== null && 'url' in m) resolve(String(m.url));
    });
    child.once('exit', (code) => reject(new Error(`the ${name} exited (${code}) before it was ready`)));
  });
  child.removeAllListeners('exit');
  // A bench whose server died would otherwise wait for its answers until it times out.
  child.once('exit', (code, signal) => {
    console.error(`the ${name} exited (${code ?? signal}) while the bench was using it. Giving up.`);
    process.exit(1);
  });
  return { child, url, logLines: () => lines };
}

/** Sends `command` to the child and waits for the message that `isAnswer` takes. */
export async function askChild(running: ChildServer, command: string, isAnswer: (m: unknown) => boolean): Promise<unknown> {
  const answered = new Promise<unknown>((resolve) => {
    const listener = (m: unknown) => {
      if (!isAnswer(m)) return;
      running.child.off('message', listener);
      resolve(m);
    };
    running.child.on('message', listener);
  });
  running.child.send(command);
  return answered;
}

export async function usageOf(running: ChildServer): Promise<ChildUsage> {
  const { usage } = (await askChild(running, 'usage', (m) => typeof m === 'object' && m !== null && 'usage' in m)) as {
    usage: { cpu: NodeJS.CpuUsage; redis?: ChildRedisUsage };
  };
  return { cpuMicros: usage.cpu.user + usage.cpu.system, redis: usage.redis };
}

/** Starts the child's CPU profiler (it must have been forked with a profile folder). */
export const startChildProfile = (running: ChildServer): Promise<unknown> => askChild(running, 'profile-start', (m) => m === 'profiling');

/** Stops it and waits until the child has written the profile. */
export const stopChildProfile = (running: ChildServer): Promise<unknown> => askChild(running, 'profile-stop', (m) => m === 'profiled');

/** Starts timing the child's answers, inside it (see answerTimes). */
export const startAnswerTimes = (running: ChildServer): Promise<unknown> => askChild(running, 'answers-start', (m) => m === 'answering');

/** The child's answer times (ms) since startAnswerTimes, and stops timing them. */
export async function stopAnswerTimes(running: ChildServer): Promise<number[]> {
  const { answers } = (await askChild(running, 'answers-stop', (m) => typeof m === 'object' && m !== null && 'answers' in m)) as { answers: number[] };
  return answers;
}

/** Asks the child to stop (it closes its server and Redis); SIGTERM, then SIGKILL, if it has not gone within `graceMs`. */
export async function stopServer(running: ChildServer, graceMs = 10_000): Promise<void> {
  running.child.removeAllListeners('exit');
  const gone = exitOf(running.child);
  running.child.send('stop');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([gone, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
  clearTimeout(timer);
  await stopChild(running.child, 1000);
}

/** In the child: its options (argv[2]) and the folder its profile goes to (argv[3]), if any. */
export function childArgs<T>(): { options: T; profileDir?: string } {
  return { options: JSON.parse(process.argv[2] ?? '') as T, profileDir: process.argv[3] };
}

/**
 * In the child: times each answer of its HTTP servers from the request's start to the response's
 * finish, until `stop` gives the times (ms). Only while asked: it costs each request a little.
 */
function answerTimes(): { stop(): number[] } {
  const started = new WeakMap<object, bigint>();
  const times: number[] = [];
  const onStart = (message: unknown) => started.set((message as { request: object }).request, process.hrtime.bigint());
  const onFinish = (message: unknown) => {
    const t0 = started.get((message as { request: object }).request);
    if (t0 !== undefined) times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  };
  subscribe('http.server.request.start', onStart);
  subscribe('http.server.response.finish', onFinish);
  return {
    stop() {
      unsubscribe('http.server.request.start', onStart);
      unsubscribe('http.server.response.finish', onFinish);
      return times;
    },
  };
}

/** In the child: answers the parent's words about `server`, then tells the parent its URL. */
export function answerParent(server: ServedByChild, profileDir?: string): void {
  let profiling: ReturnType<typeof startProfiling> | undefined;
  let timing: ReturnType<typeof answerTimes> | undefined;
  process.on('message', (message) => {
    if (message === 'answers-start') {
      timing = answerTimes();
      process.send?.('answering');
    } else if (message === 'answers-stop') {
      process.send?.({ answers: timing?.stop() ?? [] });
      timing = undefined;
    } else if (message === 'profile-start' && profileDir) {
      profiling = startProfiling();
      void profiling.then(() => process.send?.('profiling'));
    } else if (message === 'profile-stop' && profileDir && profiling) {
      void profiling.then((p) => p.stop(profileDir, 'wxreach')).then(() => process.send?.('profiled'));
    } else if (message === 'usage') {
      void (server.redis?.() ?? Promise.resolve(undefined)).then((redis) => process.send?.({ usage: { cpu: process.cpuUsage(), redis } }));
    } else if (message === 'stop') {
      void server.close().finally(() => process.exit(0));
    }
  });
  // A parent that died (a bench that crashed) leaves no server behind.
  process.on('disconnect', () => process.exit(1));
  process.send?.({ url: server.url });
}
