import { Router } from 'express';
import type { NoticeQuery } from '../delivery/notice-search';
import { creatorsSeenBy } from './auth';
import { HttpError } from './errors';
import { requesterOf, type IntakeAccounts, type NotificationIntake } from './notification-intake';
import { fieldErrors } from './notification-schema';
import { notificationView } from './notification-view';
import { encodeCursor, notificationSearchQuery } from './schemas/notification-search';

/**
 * GET /v1/notifications: an account's notifications by user, by a business field's value, or the
 * parked ones, a page at a time. A key reads the notices it may read one by one (an operator key
 * every client's; see creatorsSeenBy), of the accounts it may use.
 */
export function notificationSearchRouter(accounts: IntakeAccounts, intake: Pick<NotificationIntake, 'chosenAccount'>): Router {
  const router = Router();
  router.get('/notifications', async (req, res) => {
    const parsed = notificationSearchQuery.safeParse(req.query);
    if (!parsed.success) throw new HttpError(400, 'invalid_request', 'the query does not match', fieldErrors(parsed.error));
    const { account, openid, status, field, value, limit, after } = parsed.data;
    const appid = await intake.chosenAccount(requesterOf(res), account);
    if ((await accounts.state(appid)) === 'unknown') throw new HttpError(404, 'not_found', `no account ${appid}`);
    const { search } = accounts.runtime(appid).delivery;
    const query: NoticeQuery = { creators: creatorsSeenBy(res), limit, after };
    let page;
    if (openid !== undefined) page = await search.byUser(openid, query);
    else if (status !== undefined) page = await search.parked(query);
    else if (field !== undefined && search.fields.includes(field)) page = await search.byField(field, value as string, query);
    else {
      const listed = search.fields.length ? search.fields.join(', ') : 'none (config searchFields is empty)';
      throw new HttpError(400, 'invalid_request', `notifications are not searchable by "${field}"; searchable fields: ${listed}`, [{ field: 'field', message: 'not in searchFields' }]);
    }
    res.json({ items: page.notifications.map((n) => notificationView(n)), next: page.next ? encodeCursor(page.next) : null });
  });
  return router;
}
