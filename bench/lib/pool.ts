import { Agent } from 'undici';

/** A keep-alive undici Agent with one connection per concurrent sender. */
export const keepAliveAgent = (concurrency: number): Agent => new Agent({ connections: concurrency, keepAliveTimeout: 30_000, pipelining: 1 });

/**
 * Runs `task(i)` for i in [0, count) with at most `concurrency` in flight, each timed;
 * returns the latencies in ms (index order not kept).
 */
export async function runTimed(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const t0 = process.hrtime.bigint();
      await task(i);
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return latencies;
}

/** Until `check()` is true, polling every `everyMs`; throws after `timeoutMs` with `describe()`. */
export async function until(check: () => Promise<boolean>, everyMs: number, timeoutMs: number, describe: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms: ${await describe()}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
