import { WechatApiError, WechatTransportError } from '../api-errors';
import { TOKEN_ERRCODES } from '../errcodes';
import type { JsonHttp, JsonObject } from '../http-json';
import { TokenFetchError, type FreshToken } from '../shared-token';
import type { AccessTokens } from '../access-tokens';
import { COMPONENT_TOKEN_FIXES } from './component-errcodes';

/** What api_query_auth hands over when a merchant authorises the platform. */
export interface AuthorizationInfo {
  appid: string;
  /** '' when the account has no API permissions (then no tokens come either). */
  refreshToken: string;
  accessToken: FreshToken | null;
  /** The permission set ids the merchant granted. */
  funcs: number[];
}

export interface AuthorizerListEntry {
  appid: string;
  /** '' when the merchant authorised but no code was ever exchanged. */
  refreshToken: string;
  /** When the merchant authorised (epoch seconds). */
  authTime: number;
}

export interface AuthorizerDetails {
  /** The account's original id (gh_…), which its pushes carry as ToUserName. */
  userName: string | null;
  nickName: string | null;
  funcs: number[];
}

/** Most authorisers api_get_authorizer_list returns per call. */
export const AUTHORIZER_LIST_PAGE = 500;

export interface ComponentApiOptions {
  http: JsonHttp;
  appId: string;
  appSecret: string;
  /** The shared component_access_token, for every call but the two that obtain it. */
  tokens: AccessTokens;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** func_info: [{ funcscope_category: { id } }] (ids arrive as exact decimal text). */
function funcIds(funcInfo: unknown): number[] {
  if (!Array.isArray(funcInfo)) return [];
  return funcInfo
    .map((f) => Number((f as { funcscope_category?: { id?: unknown } })?.funcscope_category?.id))
    .filter((id) => Number.isInteger(id));
}

/**
 * The third-party platform's own API calls (all POST JSON), typed. Calls made with the component
 * token retry once with a fresh one when WeChat refuses it (40001 / 40014 / 42001); other errcodes
 * are thrown as WechatApiError, and refusals of the token endpoints as TokenFetchError with the fix.
 */
export class ComponentApi {
  constructor(private readonly o: ComponentApiOptions) {}

  /** api_component_token: the component_access_token from the latest verify ticket. */
  async requestToken(ticket: string): Promise<FreshToken> {
    const path = '/cgi-bin/component/api_component_token';
    const answer = await this.o.http.call('POST', path, {
      component_appid: this.o.appId,
      component_appsecret: this.o.appSecret,
      component_verify_ticket: ticket,
    });
    const token = answer.component_access_token;
    if (typeof token !== 'string' || token === '') throw refusal(answer, path, 'no component_access_token in the answer');
    return { token, lifetimeMs: Number(answer.expires_in ?? 7200) * 1000 };
  }

  /** api_start_push_ticket: WeChat pushes a verify ticket to the authorisation-event URL soon after. */
  async startPushTicket(): Promise<void> {
    const path = '/cgi-bin/component/api_start_push_ticket';
    // The key is component_secret here, unlike api_component_token's component_appsecret.
    const answer = await this.o.http.call('POST', path, { component_appid: this.o.appId, component_secret: this.o.appSecret });
    if (Number(answer.errcode ?? 0) !== 0) throw refusal(answer, path, '');
  }

  async createPreAuthCode(): Promise<{ code: string; expiresInSeconds: number }> {
    const path = '/cgi-bin/component/api_create_preauthcode';
    const answer = await this.call(path, { component_appid: this.o.appId });
    if (typeof answer.pre_auth_code !== 'string') throw new WechatTransportError(path, 'maybe', 'no pre_auth_code in the answer');
    return { code: answer.pre_auth_code, expiresInSeconds: Number(answer.expires_in ?? 600) };
  }

  /** api_query_auth: exchanges a merchant's authorisation code (usable once) for its tokens. */
  async queryAuth(code: string): Promise<AuthorizationInfo> {
    const path = '/cgi-bin/component/api_query_auth';
    const answer = await this.call(path, { component_appid: this.o.appId, authorization_code: code });
    const info = (answer.authorization_info ?? {}) as JsonObject;
    const appid = str(info.authorizer_appid);
    if (appid === '') throw new WechatTransportError(path, 'maybe', 'no authorization_info.authorizer_appid in the answer');
    const accessToken = str(info.authorizer_access_token);
    return {
      appid,
      refreshToken: str(info.authorizer_refresh_token),
      accessToken: accessToken === '' ? null : { token: accessToken, lifetimeMs: Number(info.expires_in ?? 7200) * 1000 },
      funcs: funcIds(info.func_info),
    };
  }

  /**
   * api_authorizer_token: a fresh authoriser access token. The answer may carry a new refresh token
   * (the one sent then stays valid for 5 minutes); without one, the one sent is still current.
   */
  async authorizerToken(appid: string, refreshToken: string): Promise<{ accessToken: FreshToken; refreshToken: string }> {
    const path = '/cgi-bin/component/api_authorizer_token';
    const answer = await this.call(path, { component_appid: this.o.appId, authorizer_appid: appid, authorizer_refresh_token: refreshToken }, true);
    const token = str(answer.authorizer_access_token);
    if (token === '') throw refusal(answer, path, 'no authorizer_access_token in the answer');
    return {
      accessToken: { token, lifetimeMs: Number(answer.expires_in ?? 7200) * 1000 },
      refreshToken: str(answer.authorizer_refresh_token) || refreshToken,
    };
  }

  /** One page of api_get_authorizer_list: every current authoriser with its refresh token. */
  async authorizerList(offset: number, count = AUTHORIZER_LIST_PAGE): Promise<{ total: number; list: AuthorizerListEntry[] }> {
    const path = '/cgi-bin/component/api_get_authorizer_list';
    const answer = await this.call(path, { component_appid: this.o.appId, offset, count });
    const list = Array.isArray(answer.list) ? (answer.list as JsonObject[]) : [];
    return {
      total: Number(answer.total_count ?? 0),
      list: list
        .filter((e) => str(e.authorizer_appid) !== '')
        .map((e) => ({ appid: str(e.authorizer_appid), refreshToken: str(e.refresh_token), authTime: Number(e.auth_time ?? 0) })),
    };
  }

  async authorizerInfo(appid: string): Promise<AuthorizerDetails> {
    const path = '/cgi-bin/component/api_get_authorizer_info';
    const answer = await this.call(path, { component_appid: this.o.appId, authorizer_appid: appid });
    const info = (answer.authorizer_info ?? {}) as JsonObject;
    const auth = (answer.authorization_info ?? {}) as JsonObject;
    return { userName: str(info.user_name) || null, nickName: str(info.nick_name) || null, funcs: funcIds(auth.func_info) };
  }

  private async call(path: string, body: JsonObject, tokenEndpoint = false, retried = false): Promise<JsonObject> {
    const token = await this.o.tokens.get();
    const answer = await this.o.http.call('POST', `${path}?component_access_token=${encodeURIComponent(token)}`, body);
    const errcode = Number(answer.errcode ?? 0);
    if (errcode === 0) return answer;
    if (TOKEN_ERRCODES.has(errcode) && !retried) {
      await this.o.tokens.invalidate(token);
      return this.call(path, body, tokenEndpoint, true);
    }
    if (tokenEndpoint) throw refusal(answer, path, '');
    throw new WechatApiError(errcode, String(answer.errmsg ?? ''), path);
  }
}

/** A token endpoint's refusal, with the fix a person must make when there is one. */
function refusal(answer: JsonObject, path: string, missing: string): TokenFetchError {
  return new TokenFetchError(Number(answer.errcode ?? 0), String(answer.errmsg ?? missing), path, COMPONENT_TOKEN_FIXES);
}
