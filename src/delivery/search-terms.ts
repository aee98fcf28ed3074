import type { NotificationRequest } from './notification';

/**
 * The terms a notice is listed under in its account's search indexes, kept with the notice when it
 * is accepted (notifications.ts) and looked up by the search (notice-search.ts).
 */

/** A notice is found by its user… */
export const userTerm = (openid: string) => `u:${openid}`;
/** …and by the value of each data field the config lists in `searchFields` (field names hold no `=`). */
export const fieldTerm = (field: string, value: string) => `f:${field}=${value}`;

/** The terms a new notice is listed under: its user, and the values of its data fields among `fields`. */
export function searchTerms(request: Pick<NotificationRequest, 'openid' | 'data'>, fields: readonly string[]): string[] {
  const values = fields.filter((f) => Object.hasOwn(request.data, f)).map((f) => fieldTerm(f, request.data[f].value));
  return [userTerm(request.openid), ...values];
}
