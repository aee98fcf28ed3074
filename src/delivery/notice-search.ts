import type { AccountStore, SearchPage, SearchPosition } from '../store/store';
import type { Notification } from './notification';
import type { Notifications } from './notifications';
import { fieldTerm, userTerm } from './search-terms';

/** A page of notices and where the next one starts (null: none). */
export interface NoticePage {
  notifications: Notification[];
  next: SearchPosition | null;
}

export interface NoticeQuery {
  /** Only these clients' notices (and those of no recorded client); undefined: every client's. */
  creators?: readonly string[];
  limit: number;
  after?: SearchPosition;
}

/**
 * Finding an account's notices again: by user (newest first), by a business field's value (newest
 * first; only the fields the config lists in `searchFields`), and the parked ones (the soonest
 * expiry first). A notice is listed under its terms (searchTerms) when it is accepted, in the same
 * store step.
 */
export class NoticeSearch {
  constructor(
    private readonly store: Pick<AccountStore, 'findByTerm' | 'findParked'>,
    private readonly notifications: Pick<Notifications, 'get'>,
    /** The data fields notices are found by. */
    readonly fields: readonly string[],
  ) {}

  async byUser(openid: string, query: NoticeQuery): Promise<NoticePage> {
    return this.read(await this.store.findByTerm(userTerm(openid), { ...query, user: openid }));
  }

  /** `field` must be one of `fields`: the values of no other field are kept (any other finds nothing). */
  async byField(field: string, value: string, query: NoticeQuery): Promise<NoticePage> {
    return this.read(await this.store.findByTerm(fieldTerm(field, value), query));
  }

  async parked(query: NoticeQuery): Promise<NoticePage> {
    // an entry may outlive its park by a moment (a notice that moved on by another way): only the parked ones count
    return this.read(await this.store.findParked(query), (n) => n.status === 'awaiting_interaction');
  }

  private async read(page: SearchPage, keep: (n: Notification) => boolean = () => true): Promise<NoticePage> {
    const found = await Promise.all(page.ids.map((id) => this.notifications.get(id)));
    return { notifications: found.filter((n): n is Notification => n !== null && keep(n)), next: page.next };
  }
}
