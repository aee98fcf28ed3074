import type { JsonHttp, JsonObject } from './http-json';
import { SharedToken, TokenFetchError, type FreshToken, type SharedTokenStorage } from './shared-token';

export interface TokenSourceOptions {
  http: JsonHttp;
  appId: string;
  appSecret: string;
  mode: 'stable' | 'classic';
  storage: SharedTokenStorage;
  /** Every token fetched is reported here so the logger can redact it. */
  onToken?: (token: string, expiresAt: number) => void;
  now?: () => number;
}

/** Refresh this long before expiry: stable_token hands out the next token in its last 5 minutes. */
const REFRESH_AHEAD_MS = 300_000;
const KEY = 'wechat:access_token';

/**
 * An Official Account's own access token (stable_token or the classic /cgi-bin/token), shared by
 * every instance through the store (see SharedToken).
 */
export class TokenSource extends SharedToken {
  constructor(o: TokenSourceOptions) {
    super({ storage: o.storage, key: KEY, refreshAheadMs: REFRESH_AHEAD_MS, fetch: () => fetchAccountToken(o), onToken: o.onToken, now: o.now });
  }
}

async function fetchAccountToken({ http, appId, appSecret, mode }: TokenSourceOptions): Promise<FreshToken> {
  const path = mode === 'stable' ? '/cgi-bin/stable_token' : '/cgi-bin/token';
  const answer: JsonObject =
    mode === 'stable'
      ? await http.call('POST', path, { grant_type: 'client_credential', appid: appId, secret: appSecret, force_refresh: false })
      : await http.call('GET', `${path}?grant_type=client_credential&appid=${encodeURIComponent(appId)}&secret=${encodeURIComponent(appSecret)}`);
  const errcode = Number(answer.errcode ?? 0);
  if (errcode !== 0 || typeof answer.access_token !== 'string') {
    throw new TokenFetchError(errcode, String(answer.errmsg ?? 'no access_token in the answer'), path);
  }
  return { token: answer.access_token, lifetimeMs: Number(answer.expires_in ?? 7200) * 1000 };
}
