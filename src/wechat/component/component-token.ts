import { WechatApiError } from '../api-errors';
import { SharedToken, type FreshToken, type SharedTokenStorage } from '../shared-token';
import { TICKET_ERRCODES } from './component-errcodes';
import type { VerifyTickets } from './verify-tickets';

export interface ComponentTokenOptions {
  storage: SharedTokenStorage;
  tickets: VerifyTickets;
  /** api_component_token with a ticket. */
  requestToken: (ticket: string) => Promise<FreshToken>;
  /** How long a fetch waits for a requested ticket push. */
  ticketWaitMs: number;
  onToken?: (token: string, expiresAt: number) => void;
  now?: () => number;
}

/** The docs advise refreshing about 10 minutes before the 2 hours are up. */
const REFRESH_AHEAD_MS = 600_000;
/** A fetch may wait for a requested ticket push: the lock outlives that wait by this much. */
const LOCK_MARGIN_MS = 10_000;

/**
 * The platform's component_access_token, shared by every instance (see SharedToken). It is made
 * from the latest verify ticket; with none kept, or one WeChat refuses as expired or invalid
 * (61005 / 61006), the fetch asks WeChat to push a ticket and waits for it, still under the
 * token's lock, so one instance asks while the others wait for its token.
 */
export function componentToken(o: ComponentTokenOptions): SharedToken {
  const fetch = async (): Promise<FreshToken> => {
    const ticket = (await o.tickets.latest()) ?? (await o.tickets.awaitNewer(null));
    try {
      return await o.requestToken(ticket.ticket);
    } catch (err) {
      if (!(err instanceof WechatApiError && TICKET_ERRCODES.has(err.errcode))) throw err;
      return o.requestToken((await o.tickets.awaitNewer(ticket)).ticket);
    }
  };
  return new SharedToken({
    storage: o.storage,
    key: 'component:access_token',
    fetch,
    refreshAheadMs: REFRESH_AHEAD_MS,
    lockTtlMs: o.ticketWaitMs + LOCK_MARGIN_MS,
    onToken: o.onToken,
    now: o.now,
  });
}
