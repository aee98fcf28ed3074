import type { VirtualClock } from '../clock';

/** WeChat pushes a component_verify_ticket every 10 minutes. */
export const TICKET_INTERVAL_MS = 10 * 60_000;

/**
 * Calls `push` at once and then every 10 minutes of the virtual clock: on a real-time timer, and
 * when the clock is advanced past the due time (once per jump, however far: only the latest
 * ticket matters).
 */
export class TicketSchedule {
  private due = Infinity;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly clock: VirtualClock,
    private readonly push: () => void,
  ) {
    clock.onAdvance(() => {
      if (this.clock.now() >= this.due) this.fire();
    });
  }

  start(): void {
    this.fire();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.due = Infinity;
  }

  private fire(): void {
    this.push();
    this.due = this.clock.now() + TICKET_INTERVAL_MS;
    clearTimeout(this.timer);
    // The virtual clock runs at real speed between jumps, so the real delay is the virtual one.
    this.timer = setTimeout(() => this.fire(), this.due - this.clock.now());
    this.timer.unref();
  }
}
