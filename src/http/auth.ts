import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { HttpError } from './errors';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** The name a key's notifications are recorded under: not the key, and not enough to find it. */
const clientName = (key: string): string => digest(key).toString('hex').slice(0, 16);

/**
 * Bearer-key auth for the business API; keys compared in constant time (as digests, so lengths
 * never leak). Sets `res.locals.client`, a short name of the key that is not the key: each client
 * has its own Idempotency-Key space and sees only the notifications it created.
 */
export function bearerAuth(keys: readonly string[]): RequestHandler {
  const allowed = keys.map(digest);
  return (req, res, next) => {
    res.locals.client = 'open';
    if (allowed.length === 0) return next(); // no keys configured: development only (refused in production by config)
    const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    if (!match) return next(new HttpError(401, 'unauthorized', 'missing "Authorization: Bearer <key>" header'));
    const given = digest(match[1]);
    if (!allowed.some((k) => timingSafeEqual(k, given))) return next(new HttpError(401, 'unauthorized', 'unknown API key'));
    res.locals.client = clientName(match[1]);
    next();
  };
}
