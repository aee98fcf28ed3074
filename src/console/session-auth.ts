import type { RequestHandler } from 'express';
import { HttpError } from '../http/errors';
import { sameToken, type ConsoleSessions } from './sessions';

/** Methods that change nothing: the only ones a session cookie alone may use. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The /v1 API's other way in: a console session cookie instead of a Bearer key. It runs before the
 * key check and, for a live session, sets what the key check sets (`res.locals.client`,
 * `accounts`, `operator`) plus `consoleSession`, so the key check is skipped. A request with an
 * Authorization header is left to the key check. A request that changes something must carry the
 * session's CSRF token in `x-csrf-token` (403 `csrf` otherwise): a page of another site cannot
 * read it, so it cannot make the browser act with the cookie.
 */
export function consoleSessionAuth(sessions: ConsoleSessions): RequestHandler {
  return async (req, res, next) => {
    if (req.get('authorization') !== undefined) return next();
    const live = await sessions.live(req);
    if (!live) return next();
    const { session } = live;
    if (!SAFE_METHODS.has(req.method) && !sameToken(req.get('x-csrf-token') ?? '', session.csrf)) {
      throw new HttpError(403, 'csrf', 'a console request that changes something needs the x-csrf-token header from GET /console/session');
    }
    res.locals.client = session.client;
    res.locals.accounts = session.accounts;
    res.locals.operator = session.operator;
    res.locals.consoleSession = true;
    next();
  };
}
