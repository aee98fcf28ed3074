import { ERRCODE } from '../../wechat/errcodes';
import type { ApiRequest } from '../api/types';
import { wxError } from '../wx-errors';
import type { Authorization, Component } from './component';
import { COMPONENT_ERRCODE } from './errcodes';
import { componentBody } from './request';

/** api_get_authorizer_list pages hold at most this many. */
const MAX_PAGE = 500;

const wholeFrom = (v: unknown, min: number): v is number => Number.isInteger(v) && (v as number) >= min;

const funcInfo = (a: Authorization) => a.permissionSets.map((id) => ({ funcscope_category: { id } }));

/** POST /cgi-bin/component/api_create_preauthcode {component_appid} */
export function createPreAuthCode(c: Component, req: ApiRequest): string {
  const r = componentBody(c, req);
  if ('error' in r) return r.error;
  return JSON.stringify({ pre_auth_code: c.preAuthCodes.issue({}), expires_in: c.preAuthCodes.ttlSeconds });
}

/**
 * POST /cgi-bin/component/api_query_auth {component_appid, authorization_code}: the code is good
 * once (61009 when used or unknown, 61010 when expired) and gives the authorizer's access token,
 * a new refresh token (an earlier one keeps 5 more minutes) and the granted permission sets.
 */
export function queryAuth(c: Component, req: ApiRequest): string {
  const r = componentBody(c, req);
  if ('error' in r) return r.error;
  const code = r.body.authorization_code;
  const appid = typeof code === 'string' ? c.authCodes.take(code) : COMPONENT_ERRCODE.CODE_INVALID;
  if (typeof appid === 'number') return wxError(appid, req.rid);
  const merchant = c.merchant(appid);
  const auth = c.authorization(appid);
  // A code issued before the merchant revoked the component is dead too.
  if (!merchant || !auth?.authorized) return wxError(COMPONENT_ERRCODE.CODE_INVALID, req.rid);
  const authorizer_refresh_token = auth.refreshTokens.rotate();
  const { access_token, expires_in } = merchant.tokens.issueReplacing('authorizer');
  return JSON.stringify({
    authorization_info: { authorizer_appid: appid, authorizer_access_token: access_token, expires_in, authorizer_refresh_token, func_info: funcInfo(auth) },
  });
}

/** POST /cgi-bin/component/api_get_authorizer_list {component_appid, offset, count}: current authorisations, oldest first. */
export function authorizerList(c: Component, req: ApiRequest): string {
  const r = componentBody(c, req);
  if ('error' in r) return r.error;
  const offset = r.body.offset ?? 0;
  const count = r.body.count;
  if (!wholeFrom(offset, 0) || !wholeFrom(count, 1)) return wxError(ERRCODE.DATA_FORMAT_ERROR, req.rid);
  if (count > MAX_PAGE) return wxError(COMPONENT_ERRCODE.INVALID_COUNT, req.rid);
  const all = c.authorized();
  const list = all.slice(offset, offset + count).map(([appid, a]) => ({
    authorizer_appid: appid,
    // '' until the authorisation was exchanged with api_query_auth.
    refresh_token: a.refreshTokens.current(),
    auth_time: a.authTime,
  }));
  return JSON.stringify({ total_count: all.length, list });
}

/** POST /cgi-bin/component/api_get_authorizer_info {component_appid, authorizer_appid} */
export function authorizerInfo(c: Component, req: ApiRequest): string {
  const r = componentBody(c, req);
  if ('error' in r) return r.error;
  const appid = typeof r.body.authorizer_appid === 'string' ? r.body.authorizer_appid : '';
  const merchant = c.merchant(appid);
  const auth = c.authorization(appid);
  if (!merchant || !auth?.authorized) return wxError(COMPONENT_ERRCODE.NOT_AUTHORIZED, req.rid);
  return JSON.stringify({
    authorizer_info: {
      nick_name: `Emulated ${merchant.opts.account}`,
      head_img: '',
      service_type_info: { id: 2 },
      verify_type_info: { id: 0 },
      user_name: merchant.opts.account,
      principal_name: 'Emulated merchant',
      alias: '',
      qrcode_url: '',
      account_status: 1,
      business_info: { open_store: 0, open_scan: 0, open_pay: 0, open_card: 0, open_shake: 0 },
    },
    authorization_info: { authorizer_appid: appid, authorizer_refresh_token: auth.refreshTokens.current(), func_info: funcInfo(auth) },
  });
}
