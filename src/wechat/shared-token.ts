import { randomUUID } from 'node:crypto';
import { TOKEN_FIXES, WechatApiError } from './api-errors';
import type { AccessTokens, TokenHealth } from './access-tokens';

/** What a shared token needs from shared storage (a subset of the Store, so all instances share one token). */
export interface SharedTokenStorage {
  getValue(key: string): Promise<string | null>;
  setValue(key: string, value: string, ttlMs?: number): Promise<void>;
  deleteValueIf(key: string, expected: string): Promise<boolean>;
  acquireLock(key: string, owner: string, ttlMs: number): Promise<boolean>;
  releaseLock(key: string, owner: string): Promise<void>;
}

/** A token as its endpoint hands it out. */
export interface FreshToken {
  token: string;
  lifetimeMs: number;
}

export interface SharedTokenOptions {
  storage: SharedTokenStorage;
  /** Where the token is kept in the storage; the lock of its fetch is `<key>:lock`. */
  key: string;
  /** Asks the token endpoint; runs under the lock, so at most one fetch at a time across instances. */
  fetch: () => Promise<FreshToken>;
  /** Fetch the next token this long before the current one expires (at most half its lifetime). */
  refreshAheadMs: number;
  /** The longest a fetch may hold the lock; others wait this long for its token. Default 10 s. */
  lockTtlMs?: number;
  /** Every token fetched, offered or read is reported here, with when it expires (epoch ms), so the logger can redact it. */
  onToken?: (token: string, expiresAt: number) => void;
  now?: () => number;
}

const DEFAULT_LOCK_TTL_MS = 10_000;
/** After a failed fetch, callers get the same error for this long instead of one token call each. */
const FAILURE_COOLDOWN_MS = 2000;
const DAY_MS = 86_400_000;

/** What the fetches did, kept beside the token (`<key>:health`) for every instance to read. */
interface FetchLog {
  /** Times of the fetches of the last 24 hours (epoch ms). */
  fetchedAt: number[];
  refusal: { errcode: number; at: string } | null;
}

interface Cached {
  token: string;
  expiresAt: number;
  /** When to fetch the next one. */
  refreshAt: number;
  /** The stored JSON, for compare-and-delete. */
  raw: string;
}

/** A token endpoint refused: carries the fix a person must make (wrong secret, IP whitelist…). */
export class TokenFetchError extends WechatApiError {
  readonly fix: string | undefined;
  constructor(errcode: number, errmsg: string, path: string, fixes: Readonly<Record<number, string>> = TOKEN_FIXES) {
    super(errcode, errmsg, path);
    this.name = 'TokenFetchError';
    this.fix = fixes[errcode];
    if (this.fix) this.message += ` (fix: ${this.fix})`;
  }
}

/**
 * One access token shared by every instance through the store: refreshed ahead of expiry,
 * single-flight inside the process and under a store lock across processes, and invalidated by
 * compare-and-delete so one bad token causes one refetch, not one per failed request. What the
 * token is and how it is fetched is the `fetch` option's business (an Official Account's own
 * token, the third-party platform's, an authoriser's).
 */
export class SharedToken implements AccessTokens {
  private local: Cached | null = null;
  private inflight: Promise<Cached> | null = null;
  private readonly owner = randomUUID();
  private readonly now: () => number;
  private readonly lockKey: string;
  private readonly healthKey: string;
  private readonly lockTtlMs: number;
  /** The last refusal by the token endpoint (cleared by a success), for /readyz. */
  lastError: TokenFetchError | null = null;
  private lastFailure: Error | null = null;
  private failedAt = 0;

  constructor(private readonly o: SharedTokenOptions) {
    this.now = o.now ?? Date.now;
    this.lockKey = `${o.key}:lock`;
    this.healthKey = `${o.key}:health`;
    this.lockTtlMs = o.lockTtlMs ?? DEFAULT_LOCK_TTL_MS;
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
    if (shared?.token === token) await this.o.storage.deleteValueIf(this.o.key, shared.raw);
  }

  /** Forget whatever token is held (its grant was withdrawn), here and in the store. */
  async discard(): Promise<void> {
    this.local = null;
    const shared = await this.readShared();
    if (shared) await this.o.storage.deleteValueIf(this.o.key, shared.raw);
  }

  /** Keeps a token that came another way (with an authorisation), so no fetch is needed for it. */
  async offer(fresh: FreshToken): Promise<void> {
    const c = this.cached(fresh);
    this.o.onToken?.(c.token, c.expiresAt);
    await this.o.storage.setValue(this.o.key, c.raw, fresh.lifetimeMs);
    this.adopt(c);
  }

  private async refresh(): Promise<Cached> {
    const shared = await this.readShared();
    if (shared && this.now() < shared.refreshAt) return this.adopt(shared);
    const usable = shared && shared.expiresAt > this.now() ? shared : null;
    const deadline = this.now() + this.lockTtlMs;
    while (!(await this.o.storage.acquireLock(this.lockKey, this.owner, this.lockTtlMs))) {
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
        fresh = this.cached(await this.fetch());
      } catch (err) {
        // An early refresh that failed: the current token still has minutes to live.
        if (usable) return (this.local = usable);
        throw err;
      }
      await this.o.storage.setValue(this.o.key, fresh.raw, fresh.expiresAt - this.now());
      return this.adopt(fresh);
    } finally {
      await this.o.storage.releaseLock(this.lockKey, this.owner);
    }
  }

  private async fetch(): Promise<FreshToken> {
    if (this.lastFailure && this.now() - this.failedAt < FAILURE_COOLDOWN_MS) throw this.lastFailure;
    let fresh: FreshToken;
    try {
      fresh = await this.o.fetch();
      this.o.onToken?.(fresh.token, this.now() + fresh.lifetimeMs);
    } catch (err) {
      if (err instanceof TokenFetchError) {
        this.lastError = err;
        await this.logFetch(err.errcode).catch(() => undefined);
      }
      this.lastFailure = err as Error;
      this.failedAt = this.now();
      throw err;
    }
    await this.logFetch(null).catch(() => undefined);
    return fresh;
  }

  /**
   * Records a fetch in the shared log: a token (errcode null) or a refusal, dated from its first
   * occurrence in a row. Fetches run under the lock, one at a time across instances, so reading and writing
   * the log back does not lose another's entry; a failure to record never fails the fetch.
   */
  private async logFetch(errcode: number | null): Promise<void> {
    const now = this.now();
    const log = await this.readLog();
    const fetchedAt = log.fetchedAt.filter((at) => at > now - DAY_MS);
    if (errcode === null) fetchedAt.push(now);
    // written again while refused, so the log outlives a refusal of more than a day
    const refusal = errcode === null ? null : log.refusal?.errcode === errcode ? log.refusal : { errcode, at: new Date(now).toISOString() };
    await this.o.storage.setValue(this.healthKey, JSON.stringify({ fetchedAt, refusal } satisfies FetchLog), DAY_MS);
  }

  private async readLog(): Promise<FetchLog> {
    const raw = await this.o.storage.getValue(this.healthKey);
    return raw === null ? { fetchedAt: [], refusal: null } : (JSON.parse(raw) as FetchLog);
  }

  async health(): Promise<TokenHealth> {
    const { fetchedAt, refusal } = await this.readLog();
    const since = this.now() - DAY_MS;
    return { refreshes24h: fetchedAt.filter((at) => at > since).length, refusal };
  }

  private cached({ token, lifetimeMs }: FreshToken): Cached {
    const expiresAt = this.now() + lifetimeMs;
    const refreshAt = expiresAt - Math.min(this.o.refreshAheadMs, lifetimeMs / 2);
    return { token, expiresAt, refreshAt, raw: JSON.stringify({ token, expiresAt, refreshAt }) };
  }

  /** A fresh token (ours or another instance's): whatever failed before is over. */
  private adopt(c: Cached): Cached {
    this.lastError = null;
    this.lastFailure = null;
    return (this.local = c);
  }

  private async readShared(): Promise<Cached | null> {
    const raw = await this.o.storage.getValue(this.o.key);
    if (!raw) return null;
    try {
      const { token, expiresAt, refreshAt } = JSON.parse(raw) as Record<string, unknown>;
      if (typeof token !== 'string' || typeof expiresAt !== 'number' || typeof refreshAt !== 'number') return null;
      this.o.onToken?.(token, expiresAt); // fetched by another instance: this one must not log it either
      return { token, expiresAt, refreshAt, raw };
    } catch {
      return null;
    }
  }
}
