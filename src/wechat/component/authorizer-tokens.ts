import { WechatApiError } from '../api-errors';
import { SharedToken, TokenFetchError, type FreshToken, type SharedTokenStorage } from '../shared-token';
import type { ComponentApi } from './component-api';
import { COMPONENT_ERRCODE } from './component-errcodes';
import type { Authorizer, Authorizers } from './authorizers';

export interface AuthorizerTokensOptions {
  appid: string;
  storage: SharedTokenStorage;
  authorizers: Authorizers;
  api: ComponentApi;
  /** Every refresh token was refused: restore this account from WeChat's list (null: not listed). */
  recoverOne: (appid: string) => Promise<Authorizer | null>;
  /** WeChat says the merchant revoked. */
  onRevoked: (appid: string) => Promise<void>;
  onToken?: (token: string, expiresAt: number) => void;
  now: () => number;
}

const PATH = '/cgi-bin/component/api_authorizer_token';
/** Refresh well ahead: every authoriser refresh spends a call of the platform's daily quota, a failed one more. */
const REFRESH_AHEAD_MS = 600_000;
/** A fetch may page the whole authoriser list (recovery) while holding the lock. */
const LOCK_TTL_MS = 30_000;

const FIXES: Readonly<Record<number, string>> = {
  [COMPONENT_ERRCODE.NOT_AUTHORIZED]: 'the merchant has not authorised the platform (or revoked); it must authorise again (GET /v1/component/authorize-url)',
  [COMPONENT_ERRCODE.REFRESH_TOKEN_INVALID]: 'WeChat holds no refresh token for this account: the merchant must authorise again (GET /v1/component/authorize-url)',
};

const notAuthorized = (appid: string) => new TokenFetchError(COMPONENT_ERRCODE.NOT_AUTHORIZED, `${appid} does not authorise the platform`, PATH, FIXES);
const noRefreshToken = (appid: string) => new TokenFetchError(COMPONENT_ERRCODE.REFRESH_TOKEN_INVALID, `no usable refresh token for ${appid}`, PATH, FIXES);
const errcodeOf = (err: unknown) => (err instanceof WechatApiError ? err.errcode : undefined);

/**
 * A merchant's authorizer_access_token, shared by every instance (see SharedToken) and made from
 * its refresh token. WeChat may hand out a new refresh token with it; that one is stored
 * (compare-and-set on the one used) before the access token is handed to anyone, so a crash in
 * between leaves the old one, which WeChat still accepts for 5 minutes. A refused refresh token
 * (61023) is retried with the previous one while it is in its overlap, then restored from WeChat's
 * authoriser list; 61003 (or absence from the list) means the merchant revoked.
 */
export class AuthorizerTokens extends SharedToken {
  constructor(o: AuthorizerTokensOptions) {
    super({
      storage: o.storage,
      key: `component:authorizer_token:${o.appid}`,
      fetch: () => fetchAuthorizerToken(o),
      refreshAheadMs: REFRESH_AHEAD_MS,
      lockTtlMs: LOCK_TTL_MS,
      onToken: o.onToken,
      now: o.now,
    });
  }
}

async function fetchAuthorizerToken(o: AuthorizerTokensOptions): Promise<FreshToken> {
  // A second pass when the stored refresh token changed under us (a re-authorisation, a recovery).
  for (let pass = 0; pass < 2; pass++) {
    const stored = await o.authorizers.get(o.appid);
    if (stored?.state !== 'authorized') throw notAuthorized(o.appid);
    const answer = (await exchange(o, stored)) ?? (await exchangeRecovered(o));
    if (await o.authorizers.rotate(o.appid, answer.expected, answer.refreshToken)) return answer.accessToken;
  }
  throw new TokenFetchError(COMPONENT_ERRCODE.REFRESH_TOKEN_INVALID, `the refresh token of ${o.appid} kept changing during the fetch; try again`, PATH, FIXES);
}

type Exchanged = { accessToken: FreshToken; refreshToken: string; expected: string };

/** The stored refresh token, then the previous one while WeChat still accepts it; null when both are refused as invalid. */
async function exchange(o: AuthorizerTokensOptions, stored: Authorizer): Promise<Exchanged | null> {
  const candidates = [stored.refreshToken];
  if (stored.previousRefreshToken && stored.previousUntil > o.now()) candidates.push(stored.previousRefreshToken);
  for (const refreshToken of candidates.filter((t) => t !== '')) {
    try {
      return { ...(await o.api.authorizerToken(o.appid, refreshToken)), expected: stored.refreshToken };
    } catch (err) {
      if (errcodeOf(err) === COMPONENT_ERRCODE.NOT_AUTHORIZED) {
        await o.onRevoked(o.appid);
        throw err;
      }
      if (errcodeOf(err) !== COMPONENT_ERRCODE.REFRESH_TOKEN_INVALID) throw err;
    }
  }
  return null;
}

async function exchangeRecovered(o: AuthorizerTokensOptions): Promise<Exchanged> {
  const recovered = await o.recoverOne(o.appid);
  if (!recovered) throw notAuthorized(o.appid);
  if (recovered.refreshToken === '') throw noRefreshToken(o.appid);
  return { ...(await o.api.authorizerToken(o.appid, recovered.refreshToken)), expected: recovered.refreshToken };
}
