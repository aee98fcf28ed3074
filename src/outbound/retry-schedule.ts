/**
 * When a delivery is attempted (Svix's schedule): at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h
 * and 10 h after each failure; then it is given up. An endpoint that fails for 5 days without a
 * success is disabled. Times follow the service's clock, so tests move it instead of waiting.
 */
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

export const RETRY_DELAYS_MS: readonly number[] = [5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR];

/** Attempts in all: the first and one per delay. */
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

/** An attempt may take this long, from connecting to the end of the answer. */
export const ATTEMPT_TIMEOUT_MS = 15 * SECOND;

export const FAILING_LIMIT_MS = 5 * 24 * HOUR;

/** After `attempts` failed attempts, the last at `at`: when to try again, or null to give up. */
export function retryAt(attempts: number, at: number): number | null {
  return attempts >= 1 && attempts <= RETRY_DELAYS_MS.length ? at + RETRY_DELAYS_MS[attempts - 1] : null;
}
