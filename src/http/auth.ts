import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import { STREAM_CLIENT } from '../delivery/stream-intake';
import { HttpError } from './errors';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** The name a key's notifications are recorded under: not the key, and not enough to find it. */
export const clientName = (key: string): string => digest(key).toString('hex').slice(0, 16);

/** An API key and the accounts it may use (null: every account). */
export interface ApiKey {
  key: string;
  accounts: readonly string[] | null;
}

/** `key` or `key=appid1|appid2` (the config's `apiKeys` entries, already validated). */
export function parseApiKey(entry: string): ApiKey {
  const at = entry.indexOf('=');
  return at < 0 ? { key: entry, accounts: null } : { key: entry.slice(0, at), accounts: entry.slice(at + 1).split('|') };
}

/**
 * Bearer-key auth for the business API; keys compared in constant time (as digests, so lengths
 * never leak). Sets `res.locals.client`, a short name of the key that is not the key (each client
 * has its own Idempotency-Key space and sees only the notifications it created),
 * `res.locals.accounts`, the appids the key is limited to (null: all), and `res.locals.operator`:
 * true for an operator key, which also reads every client's notifications of its accounts (and,
 * outside production, when no key is configured at all).
 */
export function bearerAuth(entries: readonly string[], operatorEntries: readonly string[] = []): RequestHandler {
  const allowed = [...entries.map((e) => ({ entry: e, operator: false })), ...operatorEntries.map((e) => ({ entry: e, operator: true }))].map(({ entry, operator }) => {
    const k = parseApiKey(entry);
    return { digest: digest(k.key), accounts: k.accounts, operator };
  });
  return (req, res, next) => {
    res.locals.client = 'open';
    res.locals.accounts = null;
    res.locals.operator = allowed.length === 0;
    if (allowed.length === 0) return next(); // no keys configured: development only (refused in production by config)
    const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    if (!match) return next(new HttpError(401, 'unauthorized', 'missing "Authorization: Bearer <key>" header'));
    const given = digest(match[1]);
    // every key is compared, so the time taken does not tell which one matched
    const found = allowed.filter((k) => timingSafeEqual(k.digest, given))[0];
    if (!found) return next(new HttpError(401, 'unauthorized', 'unknown API key'));
    res.locals.client = clientName(match[1]);
    res.locals.accounts = found.accounts;
    res.locals.operator = found.operator;
    next();
  };
}

/**
 * Whose notifications the request's key reads (`res.locals` as set by bearerAuth): an operator
 * key every client's (undefined); any other key its own and the stream's, which belong to no key.
 */
export const creatorsSeenBy = (res: Response): readonly string[] | undefined => (res.locals.operator ? undefined : [res.locals.client as string, STREAM_CLIENT]);
