import type { Allowance, EmulatedUser } from './state';

/** Reference §6.1 (rules since 2023): a user message opens 5 sends for 48 h. */
export const MESSAGE_ALLOWANCE = { uses: 5, ms: 48 * 3600 * 1000 } as const;
/** Follow, scan and menu click open 3 sends for 1 minute. */
export const EVENT_ALLOWANCE = { uses: 3, ms: 60 * 1000 } as const;

// A new action replaces the previous allowance of its kind (quotas do not accumulate; the
// mini-program docs say so and wxreach assumes the same for accounts).
export function openMessageAllowance(user: EmulatedUser, now: number): void {
  user.messageAllowance = { expiresAt: now + MESSAGE_ALLOWANCE.ms, left: MESSAGE_ALLOWANCE.uses };
}

export function openEventAllowance(user: EmulatedUser, now: number): void {
  user.eventAllowance = { expiresAt: now + EVENT_ALLOWANCE.ms, left: EVENT_ALLOWANCE.uses };
}

export function closeAllowances(user: EmulatedUser): void {
  user.messageAllowance = undefined;
  user.eventAllowance = undefined;
}

function valid(a: Allowance | undefined, now: number): a is Allowance {
  return a !== undefined && now < a.expiresAt;
}

/**
 * Takes one use for a customer-service send: the event allowance first (it expires sooner),
 * else the message one. Returns 0, 45015 (no valid allowance or unfollowed) or 45047 (all used).
 */
export function consumeAllowance(user: EmulatedUser, now: number): 0 | 45015 | 45047 {
  if (!user.subscribed) return 45015;
  const ev = valid(user.eventAllowance, now) ? user.eventAllowance : undefined;
  const msg = valid(user.messageAllowance, now) ? user.messageAllowance : undefined;
  if (!ev && !msg) return 45015;
  const pick = ev && ev.left > 0 ? ev : msg && msg.left > 0 ? msg : undefined;
  if (!pick) return 45047;
  pick.left -= 1;
  return 0;
}
