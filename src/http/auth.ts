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

/** Who a key is: its client name (see clientName), the appids it may use (null: all), and whether it is an operator key. */
export interface KeyIdentity {
  client: string;
  accounts: readonly string[] | null;
  /** An operator key also reads every client's notifications of its accounts. */
  operator: boolean;
}

/** The configured API keys and operator keys, read once. */
export interface ApiKeySet {
  /** No key configured: the API is open to every request (development only; refused in production by config). */
  readonly open: boolean;
  /** Who `key` is, or null when it is not configured (every key is anyone while the API is open). */
  identify(key: string): KeyIdentity | null;
  /** Whether the key with this client name is still configured ('open' while the API is open). */
  has(client: string): boolean;
}

/** The identity of every request while no key is configured. */
const OPEN: KeyIdentity = { client: 'open', accounts: null, operator: true };

/** The key set of the config's `apiKeys` and `operatorKeys` entries. */
export function apiKeySet(entries: readonly string[], operatorEntries: readonly string[] = []): ApiKeySet {
  const allowed = [...entries.map((e) => ({ entry: e, operator: false })), ...operatorEntries.map((e) => ({ entry: e, operator: true }))].map(({ entry, operator }) => {
    const k = parseApiKey(entry);
    return { digest: digest(k.key), identity: { client: clientName(k.key), accounts: k.accounts, operator } };
  });
  const open = allowed.length === 0;
  const clients = new Set(open ? [OPEN.client] : allowed.map((k) => k.identity.client));
  return {
    open,
    identify(key) {
      if (open) return OPEN;
      // Compared as digests, so lengths never leak; and every key is compared, so the time taken does not tell which one matched.
      const given = digest(key);
      const found = allowed.filter((k) => timingSafeEqual(k.digest, given))[0];
      return found ? found.identity : null;
    },
    has: (client) => clients.has(client),
  };
}

/** Who an `Authorization: Bearer <key>` header (as sent, or undefined) is, or the 401 to answer. */
export function bearerIdentity(keys: ApiKeySet, header: string | undefined): KeyIdentity | HttpError {
  if (keys.open) return OPEN;
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  if (!match) return new HttpError(401, 'unauthorized', 'missing "Authorization: Bearer <key>" header');
  return keys.identify(match[1]) ?? new HttpError(401, 'unauthorized', 'unknown API key');
}

/**
 * Bearer-key auth for the business API. Sets `res.locals.client`, a short name of the key that is
 * not the key (each client has its own Idempotency-Key space and sees only the notifications it
 * created), `res.locals.accounts`, the appids the key is limited to (null: all), and
 * `res.locals.operator` (see KeyIdentity; with no key configured, every request is an operator's).
 */
export function bearerAuth(keys: ApiKeySet): RequestHandler {
  return (req, res, next) => {
    const who = bearerIdentity(keys, req.headers.authorization);
    if (who instanceof HttpError) return next(who);
    res.locals.client = who.client;
    res.locals.accounts = who.accounts;
    res.locals.operator = who.operator;
    next();
  };
}

/** The appids the request's key is limited to, or null (every account): `res.locals` as set by bearerAuth. */
export const keyAccounts = (res: Response): readonly string[] | null => res.locals.accounts as readonly string[] | null;

/**
 * Whose notifications the request's key reads (`res.locals` as set by bearerAuth): an operator
 * key every client's (undefined); any other key its own and the stream's, which belong to no key.
 */
export const creatorsSeenBy = (res: Response): readonly string[] | undefined => (res.locals.operator ? undefined : [res.locals.client as string, STREAM_CLIENT]);
