import type { Response } from 'express';
import type { Notification } from '../delivery/notification';
import type { Account } from '../delivery/accounts';
import { creatorsSeenBy, keyAccounts } from './auth';
import type { IntakeAccounts } from './notification-intake';

/** What finding a notification by its id needs. */
export interface NotificationLookup {
  accounts: Pick<IntakeAccounts, 'runtime'>;
  /** The account a notification id belongs to, or null when it is not such an id. */
  accountOfId(id: string): string | null;
}

/**
 * Notification `id` with its account's delivery, when the request's key may read it (one of its
 * accounts, and a notice of its own or the stream's; every client's for an operator key); null
 * otherwise, so another client's (or another account's) notice answers exactly as an unknown id.
 */
export async function visibleNotification(lookup: NotificationLookup, id: string, res: Response): Promise<{ n: Notification; delivery: Account['delivery'] } | null> {
  const appid = lookup.accountOfId(id);
  const limited = keyAccounts(res);
  if (appid === null || (limited !== null && !limited.includes(appid))) return null;
  const { delivery } = lookup.accounts.runtime(appid);
  const n = await delivery.notifications.get(id, creatorsSeenBy(res));
  return n && { n, delivery };
}
