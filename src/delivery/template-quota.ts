import type { Logger } from '../log/logger';
import type { AccountStore } from '../store/store';
import { nextChinaMidnight } from '../wechat/quota-day';

const PAUSE_KEY = 'tpl-quota-paused-until';
/** Every template send asks; the answer is re-read from the store at most this often. */
const CACHE_MS = 1000;

/**
 * The account's daily template-message quota. When WeChat answers 45009, template sends pause
 * until the quota resets at midnight China time, for every instance (shared through the store);
 * meanwhile notices go straight to the customer-service text.
 */
export class TemplateQuota {
  private cache: { at: number; until: number | null } | null = null;

  constructor(
    private readonly store: Pick<AccountStore, 'getValue' | 'setValue'>,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Until when template sends are paused, or null. */
  async pausedUntil(): Promise<number | null> {
    if (!this.cache || Date.now() - this.cache.at >= CACHE_MS) {
      const v = await this.store.getValue(PAUSE_KEY);
      this.cache = { at: Date.now(), until: v === null ? null : Number(v) };
    }
    const { until } = this.cache;
    return until !== null && until > this.now() ? until : null;
  }

  async pause(): Promise<void> {
    const until = nextChinaMidnight(this.now());
    this.cache = null;
    await this.store.setValue(PAUSE_KEY, String(until), until - this.now());
    this.log.warn('daily template quota exhausted (45009): template sends paused, notifications go to the fallback', {
      until: new Date(until).toISOString(),
    });
  }
}
