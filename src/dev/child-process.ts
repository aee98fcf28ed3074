import type { ChildProcess } from 'node:child_process';

/** Resolves once `child` has exited (at once if it already has). */
export const exitOf = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => child.once('exit', () => resolve()));

/** SIGKILL, like a crash: no shutdown hook runs. Resolves once the process is gone. */
export async function killChild(child: ChildProcess): Promise<void> {
  const gone = exitOf(child);
  child.kill('SIGKILL');
  await gone;
}

/** SIGTERM (a graceful shutdown), SIGKILL if it is still there after `graceMs`. Resolves once the process is gone. */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  const gone = exitOf(child);
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([gone, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
  clearTimeout(timer);
  if (child.exitCode === null && child.signalCode === null) await killChild(child);
}
