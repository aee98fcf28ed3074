import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import type { KeyIdentity } from '../http/auth';
import type { KeyValueStore } from '../store/store';
import { readCookie, SESSION_COOKIE } from './cookie';

/** Who a console session acts as: the API key it signed in with (its short name, not the key). */
export type ConsoleIdentity = KeyIdentity;

export interface ConsoleSession extends ConsoleIdentity {
  /** The token the browser sends in `x-csrf-token` with every request that changes something. */
  csrf: string;
}

/** A request's live session, as read from the store. */
export interface LiveSession {
  /** The session's id: the cookie's value. */
  id: string;
  session: ConsoleSession;
  /** The session as stored, so signing out deletes this one only. */
  stored: string;
}

/** A session lasts this long from sign-in. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

/** Session ids and CSRF tokens: 32 random bytes, base64url. */
const token = () => randomBytes(32).toString('base64url');
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** Equal strings, compared in constant time. */
export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Console sessions in the deployment's key-values, so every instance knows them. The store holds
 * only a digest of each session id: reading the store does not give a usable cookie.
 */
export class ConsoleSessions {
  /** `stillAllowed` drops a session whose key is no longer configured. */
  constructor(
    private readonly kv: KeyValueStore,
    private readonly stillAllowed: (identity: ConsoleIdentity) => boolean,
    private readonly ttlMs = SESSION_TTL_MS,
  ) {}

  private key(id: string): string {
    return `console-session:${createHash('sha256').update(id).digest('hex')}`;
  }

  /** A new session for `identity`: its id (the cookie's value) and what it holds. */
  async create(identity: ConsoleIdentity): Promise<{ id: string; session: ConsoleSession }> {
    const id = token();
    const session: ConsoleSession = { client: identity.client, accounts: identity.accounts, operator: identity.operator, csrf: token() };
    await this.kv.setValue(this.key(id), JSON.stringify(session), this.ttlMs);
    return { id, session };
  }

  /** The session of the request's cookie, or null (no cookie, unknown, expired, signed out, or its key no longer allowed). */
  async live(req: Request): Promise<LiveSession | null> {
    const id = readCookie(req, SESSION_COOKIE);
    if (id === null || !TOKEN_SHAPE.test(id)) return null;
    const stored = await this.kv.getValue(this.key(id));
    if (stored === null) return null;
    const session = JSON.parse(stored) as ConsoleSession;
    return this.stillAllowed(session) ? { id, session, stored } : null;
  }

  /** Signs the session out (nothing happens when it is gone already). */
  async end(live: LiveSession): Promise<void> {
    await this.kv.deleteValueIf(this.key(live.id), live.stored);
  }
}
