import type { Logger } from '../../log/logger';

/**
 * Work done after WeChat has been answered (it wants an answer within 5 s): each task's failure is
 * logged, and `settled()` waits for those still running (a graceful stop, a test).
 */
export class BackgroundTasks {
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly log: Logger) {}

  run(what: string, task: () => Promise<unknown>, meta: Record<string, unknown> = {}): void {
    const p: Promise<void> = task().then(
      () => undefined,
      (err: unknown) => this.log.error(`${what} failed`, { ...meta, err }),
    );
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }
}
