import path from 'node:path';
import { freePort } from '../../src/dev/free-port';
import { WxreachProcess } from './processes';
import { startProxy, type Proxy } from './proxy';
import type { ChaosRun } from './run';

export interface Fleet {
  a: WxreachProcess;
  b: WxreachProcess;
  /** The load balancer in front of both: WeChat's pushes and the business client go through it. */
  proxy: Proxy;
}

/**
 * Two built wxreach servers with the same environment, logging into the run's folder, behind the
 * round-robin proxy. `startTimeoutMs`: how long each may take to listen (it syncs every account's
 * templates first).
 */
export async function startFleet(run: ChaosRun, env: Record<string, string>, startTimeoutMs?: number): Promise<Fleet> {
  const a = new WxreachProcess('A', await freePort(), env, path.join(run.dir, 'wxreach-A.log'));
  const b = new WxreachProcess('B', await freePort(), env, path.join(run.dir, 'wxreach-B.log'));
  run.defer(() => a.stop(), () => b.stop());
  await Promise.all([a.start(startTimeoutMs), b.start(startTimeoutMs)]);
  const proxy = await startProxy(() => [a.url, b.url]);
  run.defer(() => proxy.close());
  return { a, b, proxy };
}
