import { createHash } from 'node:crypto';
import type { Logger } from '../../log/logger';
import type { KeyValueStore } from '../../store/store';
import { WechatApiError, WechatTransportError } from '../api-errors';
import { ERRCODE } from '../errcodes';
import type { AuthorizationInfo, AuthorizerListEntry, ComponentApi } from './component-api';
import { COMPONENT_ERRCODE } from './component-errcodes';
import { LockBusyError, underLock } from './kv-lock';

/** A merchant account that authorised the platform, as the directory keeps it. */
export interface Authorizer {
  appid: string;
  state: 'authorized' | 'revoked';
  /** '' when none is known: the merchant must authorise again (revoked, or no code was ever exchanged). */
  refreshToken: string;
  /** The refresh token before the last change: WeChat still accepts it until `previousUntil` (epoch ms). */
  previousRefreshToken: string;
  previousUntil: number;
  /** The permission set ids the merchant granted (1 messages, 7 template messages…). */
  funcs: number[];
  /** The account's original id (gh_…), which its pushes carry as ToUserName. */
  userName: string | null;
  authorizedAt: number;
  updatedAt: number;
}

/** An authorisation code that cannot be exchanged (used, expired, another platform's). */
export class AuthorizationCodeError extends Error {
  constructor(
    readonly errcode: number,
    why: string,
  ) {
    super(`the authorisation code cannot be used (${why}); the merchant should open a new authorisation link`);
    this.name = 'AuthorizationCodeError';
  }
}

/** Deployment store: appid → JSON of the rest of an Authorizer. Never only in memory: refresh tokens are the secret most often lost. */
const DIRECTORY = 'component:authorizers';
const recordLock = (appid: string) => `component:authorizer:${appid}`;
/** An exchanged code → the appid it authorised (or PENDING while being exchanged), keyed by its hash. */
const codeKey = (code: string) => `component:auth_code:${createHash('sha256').update(code).digest('hex')}`;
const PENDING = '-';
/** A code is valid 10 minutes; the exchange of one is remembered well beyond, for a late redirect or push. */
const CODE_MEMORY_MS = 3_600_000;
const CODE_CLAIM_MS = 30_000;
const CODE_WAIT_MS = 15_000;
/** WeChat accepts a replaced refresh token for 5 more minutes. */
export const REFRESH_OVERLAP_MS = 300_000;
/** The push path asks whether an account is authorised for every push: a snapshot this old serves. */
const SNAPSHOT_MS = 1000;
/** Exchanging a code is tried this many times when WeChat could not be reached or was busy (the code lives 10 minutes). */
const EXCHANGE_ATTEMPTS = 3;
const EXCHANGE_BACKOFF_MS = [500, 2000];

export interface AuthorizersOptions {
  kv: KeyValueStore;
  api: ComponentApi;
  log: Logger;
  now: () => number;
  /** Every refresh token seen, so the logger can redact it (with no end: Infinity). */
  onSecret: (value: string, endsAt: number) => void;
}

function parse(appid: string, raw: string): Authorizer | null {
  try {
    const r = JSON.parse(raw) as Omit<Authorizer, 'appid'>;
    if (r.state !== 'authorized' && r.state !== 'revoked') return null;
    return { appid, ...r };
  } catch {
    return null;
  }
}

function serialize(a: Authorizer): string {
  const { appid, ...rest } = a;
  void appid; // the hash field
  return JSON.stringify(rest);
}

/** `current` with `token` as its refresh token; the one it replaces stays usable through WeChat's overlap. */
function withRefreshToken(current: Authorizer, token: string, now: number): Authorizer {
  if (token === current.refreshToken) return { ...current, updatedAt: now };
  const replaced = current.refreshToken !== '';
  return {
    ...current,
    refreshToken: token,
    previousRefreshToken: replaced ? current.refreshToken : current.previousRefreshToken,
    previousUntil: replaced ? now + REFRESH_OVERLAP_MS : current.previousUntil,
    updatedAt: now,
  };
}

/** A newly authorised record (what a revoked one knew of the account is kept). */
function fresh(appid: string, revoked: Authorizer | null, authorizedAt: number, now: number): Authorizer {
  return { appid, state: 'authorized', refreshToken: '', previousRefreshToken: '', previousUntil: 0, funcs: revoked?.funcs ?? [], userName: revoked?.userName ?? null, authorizedAt, updatedAt: now };
}

const isRetryable = (err: unknown) =>
  err instanceof WechatTransportError || (err instanceof WechatApiError && err.errcode === ERRCODE.SYSTEM_BUSY);

/**
 * The directory of merchants that authorised the platform, kept in the deployment store. Every
 * change is a read-compare-write under the record's lock, so a refresh token rotated by one
 * instance is never overwritten by another's older one.
 */
export class Authorizers {
  private snapshot: { at: number; records: Map<string, Authorizer> } | null = null;
  private reading: Promise<Map<string, Authorizer>> | null = null;

  constructor(private readonly o: AuthorizersOptions) {}

  async get(appid: string): Promise<Authorizer | null> {
    return (await this.read()).get(appid) ?? null;
  }

  async list(): Promise<Authorizer[]> {
    return [...(await this.read()).values()];
  }

  /** Like `get`, from a snapshot up to a second old (changes made here show at once). */
  async recent(appid: string): Promise<Authorizer | null> {
    if (!this.snapshot || this.o.now() - this.snapshot.at >= SNAPSHOT_MS) {
      this.reading ??= this.read().finally(() => {
        this.reading = null;
      });
      await this.reading;
    }
    return this.snapshot?.records.get(appid) ?? null;
  }

  /**
   * Exchanges `code` (api_query_auth) and stores the authoriser, then looks up its gh_ id (best
   * effort). The same code may come twice (the authorised push and the browser's redirect): it is
   * exchanged once, and the second caller gets the same authoriser. `appid`, when the caller knows
   * it (the push says), also accepts a code WeChat calls used (61009) when that account was
   * authorised within the code's lifetime. Returns the authoriser and the access token that came
   * with the code, stored before it is returned.
   */
  async authorize(code: string, appid?: string): Promise<{ authorizer: Authorizer; info: AuthorizationInfo | null }> {
    const key = codeKey(code);
    const started = Date.now();
    for (;;) {
      if (await this.o.kv.setValueIfAbsent(key, PENDING, CODE_CLAIM_MS)) {
        try {
          const result = await this.exchangeOrAccept(code, appid);
          await this.o.kv.setValue(key, result.authorizer.appid, CODE_MEMORY_MS);
          return result;
        } catch (err) {
          await this.o.kv.deleteValueIf(key, PENDING);
          throw err;
        }
      }
      const holder = await this.o.kv.getValue(key);
      if (holder !== null && holder !== PENDING) {
        const authorizer = await this.get(holder);
        if (authorizer?.state === 'authorized') return { authorizer, info: null };
        throw new AuthorizationCodeError(COMPONENT_ERRCODE.CODE_INVALID, 'already used, and that account has revoked since');
      }
      if (Date.now() - started > CODE_WAIT_MS) throw new LockBusyError('this authorisation code');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** api_query_auth and store, without the once-per-code guard (the release test repeats a code on purpose). */
  async exchange(code: string): Promise<{ authorizer: Authorizer; info: AuthorizationInfo }> {
    const info = await this.queryAuth(code);
    // its access token is reported by the token holder it is offered to (SharedToken.offer)
    this.o.onSecret(info.refreshToken, Infinity);
    const now = this.o.now();
    const authorizer = await this.put(info.appid, (current) => {
      const base = current?.state === 'authorized' ? current : fresh(info.appid, current, now, now);
      // An answer without tokens (an account without API permissions) keeps the token we have.
      return { ...withRefreshToken(base, info.refreshToken || base.refreshToken, now), funcs: info.funcs };
    });
    this.o.log.info('merchant authorised the platform', { appid: info.appid, funcs: info.funcs });
    return { authorizer: (await this.lookUpUserName(authorizer)) ?? authorizer, info };
  }

  /**
   * Compare-and-set of a refresh token: `next` replaces `expected` only when `expected` is still
   * the stored one (false otherwise: someone stored another meanwhile).
   */
  async rotate(appid: string, expected: string, next: string): Promise<boolean> {
    this.o.onSecret(next, Infinity);
    const now = this.o.now();
    const changed = await this.change(appid, (current) =>
      current?.state === 'authorized' && current.refreshToken === expected ? withRefreshToken(current, next, now) : null,
    );
    return changed !== null;
  }

  /**
   * Restores an authoriser from api_get_authorizer_list (the official recovery path); returns
   * what was stored, or null when the stored record already holds that refresh token.
   */
  async restore(entry: AuthorizerListEntry): Promise<Authorizer | null> {
    this.o.onSecret(entry.refreshToken, Infinity);
    const now = this.o.now();
    return this.change(entry.appid, (current) => {
      if (current?.state === 'authorized' && (current.refreshToken === entry.refreshToken || entry.refreshToken === '')) return null;
      const base = current?.state === 'authorized' ? current : fresh(entry.appid, current, entry.authTime * 1000 || now, now);
      return withRefreshToken(base, entry.refreshToken, now);
    });
  }

  /** The merchant revoked: its refresh tokens are dropped. True when it was authorised until now. */
  async revoke(appid: string): Promise<boolean> {
    let wasAuthorized = false;
    await this.change(appid, (current) => {
      if (current?.state !== 'authorized') return null;
      wasAuthorized = true;
      return { ...current, state: 'revoked', refreshToken: '', previousRefreshToken: '', previousUntil: 0, updatedAt: this.o.now() };
    });
    if (wasAuthorized) this.o.log.warn('merchant revoked the authorisation', { appid });
    return wasAuthorized;
  }

  /** Best effort: the gh_ id and granted sets from api_get_authorizer_info; null when unavailable. */
  async lookUpUserName(authorizer: Authorizer): Promise<Authorizer | null> {
    try {
      const details = await this.o.api.authorizerInfo(authorizer.appid);
      if (!details.userName) return null;
      return this.change(authorizer.appid, (current) =>
        current ? { ...current, userName: details.userName, funcs: current.funcs.length > 0 ? current.funcs : details.funcs } : null,
      );
    } catch (err) {
      this.o.log.warn('could not look up the authoriser details', { appid: authorizer.appid, err });
      return null;
    }
  }

  private async exchangeOrAccept(code: string, appid: string | undefined): Promise<{ authorizer: Authorizer; info: AuthorizationInfo | null }> {
    try {
      return await this.exchange(code);
    } catch (err) {
      if (!(err instanceof AuthorizationCodeError) || err.errcode !== COMPONENT_ERRCODE.CODE_INVALID || appid === undefined) throw err;
      // Used already (by another instance before this one's memory of it, say): fine when that account is freshly authorised.
      const known = await this.get(appid);
      if (known?.state === 'authorized' && known.refreshToken !== '' && this.o.now() - known.updatedAt < CODE_MEMORY_MS) return { authorizer: known, info: null };
      throw err;
    }
  }

  private async queryAuth(code: string): Promise<AuthorizationInfo> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.o.api.queryAuth(code);
      } catch (err) {
        if (err instanceof WechatApiError && (err.errcode === COMPONENT_ERRCODE.CODE_INVALID || err.errcode === COMPONENT_ERRCODE.CODE_EXPIRED)) {
          throw new AuthorizationCodeError(err.errcode, err.errcode === COMPONENT_ERRCODE.CODE_EXPIRED ? 'expired' : 'invalid or already used');
        }
        if (!isRetryable(err) || attempt >= EXCHANGE_ATTEMPTS) throw err;
        await new Promise((r) => setTimeout(r, EXCHANGE_BACKOFF_MS[attempt - 1]));
      }
    }
  }

  /** Read-compare-write of one record under its lock; `next` returns null to leave it as it is. */
  private async change(appid: string, next: (current: Authorizer | null) => Authorizer | null): Promise<Authorizer | null> {
    return underLock(this.o.kv, recordLock(appid), async () => {
      const raw = (await this.o.kv.getHash(DIRECTORY))[appid];
      const current = raw === undefined ? null : parse(appid, raw);
      const updated = next(current);
      if (updated === null) return null;
      await this.o.kv.setHash(DIRECTORY, { [appid]: serialize(updated) });
      this.snapshot?.records.set(appid, updated);
      return updated;
    });
  }

  private async put(appid: string, next: (current: Authorizer | null) => Authorizer): Promise<Authorizer> {
    return (await this.change(appid, next)) as Authorizer;
  }

  private async read(): Promise<Map<string, Authorizer>> {
    const at = this.o.now();
    const records = new Map<string, Authorizer>();
    for (const [appid, raw] of Object.entries(await this.o.kv.getHash(DIRECTORY))) {
      const a = parse(appid, raw);
      if (!a) continue;
      if (a.refreshToken) this.o.onSecret(a.refreshToken, Infinity);
      if (a.previousRefreshToken) this.o.onSecret(a.previousRefreshToken, Infinity);
      records.set(appid, a);
    }
    this.snapshot = { at, records };
    return records;
  }
}
