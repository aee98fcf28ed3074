import { randomUUID } from 'node:crypto';
import { TOKEN_FIXES, WechatApiError } from './api-errors';
import type { JsonHttp, JsonObject } from './http-json';

/** What the token source needs from shared storage (a subset of the Store, so all instances share one token). */
export interface SharedTokenStorage {
  getValue(key: string): Promise<string | null>;
  setValue(key: string, value: string, ttlMs?: number): Promise<void>;
  deleteValueIf(key: string, expected: string): Promise<boolean>;
  acquireLock(key: string, owner: string, ttlMs: number): Promise<boolean>;
  releaseLock(key: string, owner: string): Promise<void>;
}

export interface TokenSourceOptions {
  http: JsonHttp;
  appId: string;
  appSecret: string;
  mode: 'stable' | 'classic';
  storage: SharedTokenStorage;
  /** Every token fetched is reported here so the logger can redact it. */
  onToken?: (token: string) => void;
  now?: () => number;
}

/**
 * An account's access token as the API client uses it: an Official Account's own (TokenSource)
 * or a third-party platform's authoriser token.
 */
export interface AccessTokens {
  get(): Promise<string>;
  /** The token was refused (40001 and the like): forget it, unless another caller already replaced it. */
  invalidate(token: string): Promise<void>;
  /** The last refusal by the token endpoint (cleared by a success), for /readyz and GET /v1/accounts. */
  readonly lastError: (Error & { errcode?: number; fix?: string }) | null;
}

/** Refresh this long before expiry: stable_token hands out the next token in its last 5 minutes. */
const REFRESH_AHEAD_MS = 300_000;
const LOCK_TTL_MS = 10_000;
/** After a failed fetch, callers get the same error for this long instead of one token call each. */
const FAILURE_COOLDOWN_MS = 2000;
const KEY = 'wechat:access_token';
const LOCK_KEY = 'wechat:access_token:lock';

interface Cached {
  token: string;
  expiresAt: number;
  /** When to fetch the next one: 5 minutes before expiry, or half-way for short-lived tokens. */
  refreshAt: number;
  /** The stored JSON, for compare-and-delete. */
  raw: string;
}

/** A token endpoint refused: carries the fix a person must make (wrong secret, IP whitelist…). */
export class TokenFetchError extends WechatApiError {
  readonly fix: string | undefined;
  constructor(errcode: number, errmsg: string, path: string) {
    super(errcode, errmsg, path);
    this.name = 'TokenFetchError';
    this.fix = TOKEN_FIXES[errcode];
    if (this.fix) this.message += ` (fix: ${this.fix})`;
  }
}

/**
 * The access token, shared by every instance through the store: refreshed ahead of expiry,
 * single-flight inside the process and under a store lock across processes, and invalidated by
 * compare-and-delete so one bad token causes one refetch, not one per failed request.
 */
export class TokenSource implements AccessTokens {
  private local: Cached | null = null;
  private inflight: Promise<Cached> | null = null;
  private readonly owner = randomUUID();
  private readonly now: () => number;
  /** The last refusal by the token endpoint (cleared by a success), for /readyz. */
  lastError: TokenFetchError | null = null;
  private lastFailure: Error | null = null;
  private failedAt = 0;

  constructor(private readonly o: TokenSourceOptions) {
    this.now = o.now ?? Date.now;
  }

  async get(): Promise<string> {
    if (this.local && this.now() < this.local.refreshAt) return this.local.token;
    this.inflight ??= this.refresh().finally(() => {
      this.inflight = null;
    });
    return (await this.inflight).token;
  }

  /** Forget `token` here and in the store, unless another caller already replaced it. */
  async invalidate(token: string): Promise<void> {
    if (this.local?.token === token) this.local = null;
    const shared = await this.readShared();
    if (shared?.token === token) await this.o.storage.deleteValueIf(KEY, shared.raw);
  }

  private async refresh(): Promise<Cached> {
    const shared = await this.readShared();
    if (shared && this.now() < shared.refreshAt) return this.adopt(shared);
    const usable = shared && shared.expiresAt > this.now() ? shared : null;
    const deadline = this.now() + LOCK_TTL_MS;
    while (!(await this.o.storage.acquireLock(LOCK_KEY, this.owner, LOCK_TTL_MS))) {
      // Another instance is fetching: a still-valid token serves meanwhile; otherwise wait for theirs.
      if (usable) return (this.local = usable);
      await new Promise((r) => setTimeout(r, 50));
      const theirs = await this.readShared();
      if (theirs && this.now() < theirs.refreshAt) return this.adopt(theirs);
      if (this.now() > deadline) break; // the holder died; its lock expires anyway
    }
    try {
      const again = await this.readShared();
      if (again && this.now() < again.refreshAt) return this.adopt(again);
      let fresh: Cached;
      try {
        fresh = await this.fetch();
      } catch (err) {
        // An early refresh that failed: the current token still has minutes to live.
        if (usable) return (this.local = usable);
        throw err;
      }
      await this.o.storage.setValue(KEY, fresh.raw, fresh.expiresAt - this.now());
      return this.adopt(fresh);
    } finally {
      await this.o.storage.releaseLock(LOCK_KEY, this.owner);
    }
  }

  /** A fresh token (ours or another instance's): whatever failed before is over. */
  private adopt(c: Cached): Cached {
    this.lastError = null;
    this.lastFailure = null;
    return (this.local = c);
  }

  private async readShared(): Promise<Cached | null> {
    const raw = await this.o.storage.getValue(KEY);
    if (!raw) return null;
    try {
      const { token, expiresAt, refreshAt } = JSON.parse(raw) as Record<string, unknown>;
      if (typeof token !== 'string' || typeof expiresAt !== 'number' || typeof refreshAt !== 'number') return null;
      this.o.onToken?.(token); // fetched by another instance: this one must not log it either
      return { token, expiresAt, refreshAt, raw };
    } catch {
      return null;
    }
  }

  private async fetch(): Promise<Cached> {
    const { mode } = this.o;
    if (this.lastFailure && this.now() - this.failedAt < FAILURE_COOLDOWN_MS) throw this.lastFailure;
    const path = mode === 'stable' ? '/cgi-bin/stable_token' : '/cgi-bin/token';
    try {
      return await this.fetchFrom(path);
    } catch (err) {
      this.lastFailure = err as Error;
      this.failedAt = this.now();
      throw err;
    }
  }

  private async fetchFrom(path: string): Promise<Cached> {
    const { http, appId, appSecret, mode } = this.o;
    const answer: JsonObject =
      mode === 'stable'
        ? await http.call('POST', path, { grant_type: 'client_credential', appid: appId, secret: appSecret, force_refresh: false })
        : await http.call('GET', `${path}?grant_type=client_credential&appid=${encodeURIComponent(appId)}&secret=${encodeURIComponent(appSecret)}`);
    const errcode = Number(answer.errcode ?? 0);
    if (errcode !== 0 || typeof answer.access_token !== 'string') {
      this.lastError = new TokenFetchError(errcode, String(answer.errmsg ?? 'no access_token in the answer'), path);
      throw this.lastError;
    }
    this.o.onToken?.(answer.access_token);
    const lifetimeMs = Number(answer.expires_in ?? 7200) * 1000;
    const expiresAt = this.now() + lifetimeMs;
    const refreshAt = expiresAt - Math.min(REFRESH_AHEAD_MS, lifetimeMs / 2);
    const token = answer.access_token;
    return { token, expiresAt, refreshAt, raw: JSON.stringify({ token, expiresAt, refreshAt }) };
  }
}
