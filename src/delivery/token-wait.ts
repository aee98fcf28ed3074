import type { Notification } from './notification';
import type { Notifications } from './notifications';

/** How long a notice waits before trying again when the token endpoint refuses. */
const TOKEN_WAIT_MS = 2000;

/**
 * The token endpoint refused: try again later without counting an attempt (the token source
 * rate-limits its own calls), with one history line per outage, not one per try.
 */
export async function waitForToken(
  notifications: Notifications,
  n: Notification,
  from: 'queued' | 'fallback_pending',
  reason: string,
  now: number,
  set: Record<string, string> = {},
): Promise<void> {
  const detail = `${reason}; waiting for a usable access token`;
  const repeated = n.history.at(-1)?.detail === detail;
  await notifications.move(n, [from], from, repeated ? null : detail, { set, dueAt: now + TOKEN_WAIT_MS });
}
