import { WINDOW_RULES, type WindowKind } from '../wechat/customer-service-window';
import { ERRCODE } from '../wechat/errcodes';
import type { Allowance, EmulatedUser } from './state';

function allowance(kind: WindowKind, now: number): Allowance {
  const rule = WINDOW_RULES[kind];
  return { expiresAt: now + rule.seconds * 1000, left: rule.quota };
}

// A new action replaces the previous allowance of its kind (quotas do not accumulate; the
// mini-program docs say so and wxreach assumes the same for accounts).
export function openMessageAllowance(user: EmulatedUser, now: number): void {
  user.messageAllowance = allowance('message', now);
}

export function openEventAllowance(user: EmulatedUser, now: number): void {
  user.eventAllowance = allowance('event', now);
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
export function consumeAllowance(user: EmulatedUser, now: number): 0 | typeof ERRCODE.WINDOW_CLOSED | typeof ERRCODE.WINDOW_QUOTA_USED {
  if (!user.subscribed) return ERRCODE.WINDOW_CLOSED;
  const ev = valid(user.eventAllowance, now) ? user.eventAllowance : undefined;
  const msg = valid(user.messageAllowance, now) ? user.messageAllowance : undefined;
  if (!ev && !msg) return ERRCODE.WINDOW_CLOSED;
  const pick = ev && ev.left > 0 ? ev : msg && msg.left > 0 ? msg : undefined;
  if (!pick) return ERRCODE.WINDOW_QUOTA_USED;
  pick.left -= 1;
  return 0;
}
