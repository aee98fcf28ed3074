/**
 * A task run at most once per `intervalMs` when asked (the due index's and the outboxes' sweeps):
 * callers that ask at the same moment share one run, and a run counts from its start.
 */
export class PeriodicTask {
  private lastRunAt: number | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly intervalMs: number,
    private readonly task: () => Promise<void>,
  ) {}

  /** Runs the task unless it ran less than `intervalMs` ago. */
  async whenDue(): Promise<void> {
    if (this.lastRunAt !== null && Date.now() - this.lastRunAt < this.intervalMs) return;
    await this.run();
  }

  /** Runs it now (or joins the run in progress). */
  run(): Promise<void> {
    this.running ??= (async () => {
      const startedAt = Date.now();
      await this.task();
      this.lastRunAt = startedAt;
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }
}
