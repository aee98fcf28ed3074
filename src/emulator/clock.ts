import { chinaDay } from '../wechat/quota-day';

/**
 * The emulator's notion of "now": wall clock plus an offset that only moves forward, so tests can
 * cross 48-hour windows and token expiry without waiting.
 */
export class VirtualClock {
  private offsetMs = 0;
  private readonly advanced: (() => void)[] = [];

  now(): number {
    return Date.now() + this.offsetMs;
  }

  seconds(): number {
    return Math.floor(this.now() / 1000);
  }

  iso(): string {
    return new Date(this.now()).toISOString();
  }

  /** The day WeChat's daily quotas count in (they reset at midnight China time). */
  chinaDay(): number {
    return chinaDay(this.now());
  }

  advance(seconds: number): void {
    this.offsetMs += seconds * 1000;
    for (const listener of this.advanced) listener();
  }

  /** Work due at virtual times (ticket pushes) runs when the clock jumps past them, not only on real timers. */
  onAdvance(listener: () => void): void {
    this.advanced.push(listener);
  }

  reset(): void {
    this.offsetMs = 0;
  }
}
