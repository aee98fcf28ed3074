import { WX_OK, wxError } from '../wx-errors';
import type { ApiRequest } from '../api/types';
import type { Component } from './component';
import { COMPONENT_ERRCODE } from './errcodes';
import { componentBody, secretError } from './request';

/** api_start_push_ticket answers at once; the ticket follows shortly after, like WeChat's. */
const START_PUSH_DELAY_MS = 50;

/** POST /cgi-bin/component/api_component_token {component_appid, component_appsecret, component_verify_ticket} */
export function componentToken(c: Component, req: ApiRequest): string {
  const r = componentBody(c, req);
  if ('error' in r) return r.error;
  const code = secretError(c, r.body.component_appsecret) || c.tickets.check(r.body.component_verify_ticket);
  if (code) return wxError(code, req.rid);
  const { access_token, expires_in } = c.tokens.issueReplacing('component');
  return JSON.stringify({ component_access_token: access_token, expires_in });
}

/** POST /cgi-bin/component/api_start_push_ticket {component_appid, component_secret} */
export function startPushTicket(c: Component, req: ApiRequest): string {
  const r = componentBody(c, req);
  if ('error' in r) return r.error;
  const code = secretError(c, r.body.component_secret);
  if (code) return wxError(code, req.rid);
  c.pushTicketSoon(START_PUSH_DELAY_MS);
  return WX_OK;
}

/**
 * POST /cgi-bin/component/api_authorizer_token {component_appid, authorizer_appid, authorizer_refresh_token}:
 * a new authorizer access token and a new refresh token (the one used keeps 5 more minutes).
 * 61003 when the account has not authorised the component (or revoked it), 61023 for a refresh
 * token that is not (or no longer) valid.
 */
export function authorizerToken(c: Component, req: ApiRequest): string {
  const r = componentBody(c, req);
  if ('error' in r) return r.error;
  const appid = typeof r.body.authorizer_appid === 'string' ? r.body.authorizer_appid : '';
  const merchant = c.merchant(appid);
  const auth = c.authorization(appid);
  if (!merchant || !auth?.authorized) return wxError(COMPONENT_ERRCODE.NOT_AUTHORIZED, req.rid);
  const given = r.body.authorizer_refresh_token;
  if (typeof given !== 'string' || !auth.refreshTokens.valid(given)) return wxError(COMPONENT_ERRCODE.REFRESH_TOKEN_INVALID, req.rid);
  const authorizer_refresh_token = auth.refreshTokens.rotate();
  const { access_token, expires_in } = merchant.tokens.issueReplacing('authorizer');
  return JSON.stringify({ authorizer_access_token: access_token, expires_in, authorizer_refresh_token });
}
