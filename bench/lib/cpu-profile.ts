import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** "name (file:line)", the file relative to node_modules or the project when it is in one. */
function frameName({ functionName, url, lineNumber }: ProfileNode['callFrame']): string {
  const file = url.replace(/^file:\/\//, '');
  const short = file.includes('node_modules/') ? file.slice(file.lastIndexOf('node_modules/') + 'node_modules/'.length) : file.includes('/dist/') ? file.slice(file.indexOf('/dist/') + 1) : file;
  return `${functionName || '(anonymous)'}${short ? ` (${short}:${lineNumber + 1})` : ''}`;
}

/**
 * The functions that took the most CPU in the `.cpuprofile` files of `dir`: by self time (the
 * function's own code) and by total time (with what it called), as shares of all samples, `top` of
 * each.
 */
function topFunctions(dir: string, top: number): { self: [string, number][]; total: [string, number][] } {
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let all = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const timeOf = new Map<number, number>();
    profile.samples.forEach((id, i) => timeOf.set(id, (timeOf.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
    for (const [id, us] of timeOf) {
      all += us;
      const name = frameName(byId.get(id)!.callFrame);
      self.set(name, (self.get(name) ?? 0) + us);
      // each function once per stack, however deep its recursion
      const seen = new Set<string>();
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const n = frameName(byId.get(at)!.callFrame);
        if (seen.has(n)) continue;
        seen.add(n);
        total.set(n, (total.get(n) ?? 0) + us);
      }
    }
  }
  const share = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => [k, v / all] as [string, number]);
  return { self: share(self), total: share(total) };
}

/**
 * Starts V8's CPU profiler in this process (what `node --cpu-prof` does, but from here on only);
 * `stop` ends it and writes the profile to `dir/<name>.cpuprofile`, replacing one of that name.
 */
export async function startProfiling(): Promise<{ stop(dir: string, name: string): Promise<void> }> {
  const session = new Session();
  session.connect();
  const post = (method: string) =>
    new Promise<unknown>((resolve, reject) => session.post(method, (err, result) => (err ? reject(err) : resolve(result))));
  await post('Profiler.enable');
  await post('Profiler.start');
  return {
    async stop(dir, name) {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      session.disconnect();
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    },
  };
}

/** Runs `run` under the CPU profiler (see startProfiling) and writes the profile to `dir/<name>.cpuprofile`. */
export async function profiledRun<T>(dir: string, name: string, run: () => Promise<T>): Promise<T> {
  const profiling = await startProfiling();
  try {
    return await run();
  } finally {
    await profiling.stop(dir, name);
  }
}

/** The top functions of the profiles in `dir` as printable rows under `title` (see topFunctions). */
export function describeProfile(dir: string, top: number, title = 'CPU profile'): string {
  const { self, total } = topFunctions(dir, top);
  const rows = (list: [string, number][]) => list.map(([name, share]) => `    ${(share * 100).toFixed(1).padStart(5)}%  ${name}`).join('\n');
  return `  ${title} (${dir}), by self time:\n${rows(self)}\n  by total time (with callees):\n${rows(total)}`;
}
