import type { Logger } from '../log/logger';
import type { AccountStore } from '../store/store';
import type { ApiQuota } from '../wechat/api-client';
import { nextChinaMidnight } from '../wechat/quota-day';

const PAUSE_KEY = 'tpl-quota-paused-until';
/** Every template send asks; the answer is re-read from the store at most this often. */
const CACHE_MS = 1000;
/** The last answer of `openapi/quota/get` (JSON), and the mark that one instance asks per period. */
const CHECKED_KEY = 'tpl-quota-checked';
const POLL_MARK = 'tpl-quota-poll';
/** A checked quota is shown this long (then it is too old to mean anything). */
const CHECKED_KEEP_MS = 2 * 86_400_000;

/** The template send API's quota as last asked of WeChat. */
export interface CheckedQuota extends ApiQuota {
  /** ISO time of the answer. */
  checkedAt: string;
}

/**
 * The account's daily template-message quota. When WeChat answers 45009, template sends pause
 * until the quota resets at midnight China time, for every instance (shared through the store);
 * meanwhile notices go straight to the customer-service text. The quota's figures (limit, used,
 * remaining) are asked of WeChat on a schedule, by one instance per period, for the operator.
 */
export class TemplateQuota {
  private cache: { at: number; until: number | null } | null = null;

  constructor(
    private readonly store: Pick<AccountStore, 'getValue' | 'setValue' | 'firstSeen'>,
    private readonly api: { templateQuota(): Promise<ApiQuota> },
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

  /**
   * Asks WeChat for the quota unless some instance did within the last half `everySeconds` (so
   * instances that poll every `everySeconds` ask about once per period between them).
   */
  async poll(everySeconds: number): Promise<void> {
    if (!(await this.store.firstSeen(POLL_MARK, Math.max(1, Math.floor(everySeconds / 2))))) return;
    const quota = await this.api.templateQuota();
    const checked: CheckedQuota = { ...quota, checkedAt: new Date(this.now()).toISOString() };
    await this.store.setValue(CHECKED_KEY, JSON.stringify(checked), CHECKED_KEEP_MS);
  }

  /** The quota as last asked of WeChat, or null when never asked (or too long ago). */
  async checked(): Promise<CheckedQuota | null> {
    const raw = await this.store.getValue(CHECKED_KEY);
    return raw === null ? null : (JSON.parse(raw) as CheckedQuota);
  }
}
