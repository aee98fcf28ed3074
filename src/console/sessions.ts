import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { KeyValueStore } from '../store/store';

/** Who a console session acts as: what the API key it signed in with may see. */
export interface ConsoleIdentity {
  /** The API's short name of the key (not the key). */
  client: string;
  /** The appids the key is limited to; null: every account. */
  accounts: readonly string[] | null;
  /** An operator key: reads every client's notices of its accounts. */
  operator: boolean;
}

export interface ConsoleSession extends ConsoleIdentity {
  /** The token the browser sends in `x-csrf-token` with every request that changes something. */
  csrf: string;
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
  constructor(
    private readonly kv: KeyValueStore,
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

  /** The session with this id, or null (unknown, expired, signed out, or not an id at all). */
  async get(id: string): Promise<ConsoleSession | null> {
    if (!TOKEN_SHAPE.test(id)) return null;
    const stored = await this.kv.getValue(this.key(id));
    return stored === null ? null : (JSON.parse(stored) as ConsoleSession);
  }

  /** Signs the session out (nothing happens when it is gone already). */
  async end(id: string): Promise<void> {
    if (!TOKEN_SHAPE.test(id)) return;
    const stored = await this.kv.getValue(this.key(id));
    if (stored !== null) await this.kv.deleteValueIf(this.key(id), stored);
  }
}
