import { chinaDay } from '../wechat/quota-day';

/**
 * The emulator's notion of "now": wall clock plus an offset that only moves forward, so tests can
 * cross 48-hour windows and token expiry without waiting.
 */
export class VirtualClock {
  private offsetMs = 0;

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
  }

  reset(): void {
    this.offsetMs = 0;
  }
}
