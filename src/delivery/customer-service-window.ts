import type { CustomerServiceWindows } from '../store/store';
import { WINDOW_RULES, type WindowKind } from '../wechat/customer-service-window';

/** A user's two windows, the short event one first: it expires sooner, so it is used first. */
const KINDS: readonly WindowKind[] = ['event', 'message'];

/**
 * Our record of each user's customer-service window. It only ever saves calls: a window we have
 * never seen is "unknown" and the call is tried; only a recorded window that expired or is used up
 * skips it.
 */
export class CustomerServiceWindow {
  constructor(
    private readonly store: CustomerServiceWindows,
    /** Closed windows are remembered this long, so they read as closed rather than unknown. */
    private readonly keepSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  open(openid: string, kind: WindowKind): Promise<void> {
    const rule = WINDOW_RULES[kind];
    return this.store.openWindow(openid, kind, rule.quota, this.now() + rule.seconds * 1000, this.keepSeconds);
  }

  /** Takes one message of the window: 'open' (taken from `kind`: give it back with `giveBack` if unused), 'closed' or 'unknown'. */
  async take(openid: string): Promise<{ state: 'open' | 'closed' | 'unknown'; kind?: WindowKind }> {
    const { use, kind } = await this.store.takeFromWindow(openid, KINDS, this.now());
    if (use === 'taken') return { state: 'open', kind: kind as WindowKind };
    return { state: use === 'unknown' ? 'unknown' : 'closed' };
  }

  /** Whether a message could be sent now (reads only; takes nothing). */
  async hasRoom(openid: string): Promise<boolean> {
    const now = this.now();
    const states = await Promise.all(KINDS.map((kind) => this.store.getWindow(openid, kind)));
    return states.some((s) => s !== null && s.expiresAt > now && s.remaining > 0);
  }

  giveBack(openid: string, kind: WindowKind): Promise<void> {
    return this.store.giveBackToWindow(openid, kind);
  }

  /** WeChat said closed (45015/45047) or the user unfollowed. */
  close(openid: string): Promise<void> {
    return this.store.closeWindows(openid, KINDS, this.now(), this.keepSeconds);
  }
}
