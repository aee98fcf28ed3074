const CHINA_OFFSET_MS = 8 * 3600 * 1000;

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

  /** WeChat's daily quotas reset at midnight China time (UTC+8). */
  chinaDay(): number {
    return Math.floor((this.now() + CHINA_OFFSET_MS) / 86_400_000);
  }

  advance(seconds: number): void {
    this.offsetMs += seconds * 1000;
  }

  reset(): void {
    this.offsetMs = 0;
  }
}
