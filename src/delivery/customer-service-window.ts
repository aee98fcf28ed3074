import type { Store } from '../store/store';
import { WINDOW_RULES, type WindowKind } from '../wechat/customer-service-window';

/** The two allowances of a user, the short event one first: it expires sooner, so it is used first. */
const keysOf = (openid: string) => [`win:e:${openid}`, `win:m:${openid}`];

/**
 * Our record of each user's customer-service window. It only ever saves calls: a window we have
 * never seen is "unknown" and the call is tried; only a recorded window that expired or is used up
 * skips it.
 */
export class CustomerServiceWindow {
  constructor(
    private readonly store: Store,
    /** Closed windows are remembered this long, so they read as closed rather than unknown. */
    private readonly keepSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  open(openid: string, kind: WindowKind): Promise<void> {
    const rule = WINDOW_RULES[kind];
    const key = kind === 'event' ? keysOf(openid)[0] : keysOf(openid)[1];
    return this.store.openAllowance(key, rule.quota, this.now() + rule.seconds * 1000, this.keepSeconds);
  }

  /** Takes one message of the window: 'open' (taken, give it back with `giveBack` if unused), 'closed' or 'unknown'. */
  async take(openid: string): Promise<{ state: 'open' | 'closed' | 'unknown'; key?: string }> {
    const { use, key } = await this.store.takeAllowance(keysOf(openid), this.now());
    if (use === 'taken') return { state: 'open', key };
    return { state: use === 'unknown' ? 'unknown' : 'closed' };
  }

  /** Whether a message could be sent now (reads only; takes nothing). */
  async hasRoom(openid: string): Promise<boolean> {
    const now = this.now();
    const states = await Promise.all(keysOf(openid).map((k) => this.store.getAllowance(k)));
    return states.some((s) => s !== null && s.expiresAt > now && s.remaining > 0);
  }

  giveBack(key: string): Promise<void> {
    return this.store.returnAllowance(key);
  }

  /** WeChat said closed (45015/45047) or the user unfollowed. */
  close(openid: string): Promise<void> {
    return this.store.closeAllowances(keysOf(openid), this.now(), this.keepSeconds);
  }
}
