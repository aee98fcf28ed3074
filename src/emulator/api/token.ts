import { ERRCODE } from '../../wechat/errcodes';
import type { Account } from '../account';
import { wxError } from '../wx-errors';
import { jsonObject, type ApiRequest } from './types';

/** Credential checks shared by both token endpoints, in WeChat's order. */
function credentialError(account: Account, grantType: unknown, appid: unknown, secret: unknown): number {
  if (grantType !== 'client_credential') return ERRCODE.INVALID_GRANT_TYPE;
  if (typeof appid !== 'string' || appid === '') return ERRCODE.APPID_MISSING;
  if (appid !== account.opts.appId) return ERRCODE.INVALID_APPID;
  if (typeof secret !== 'string' || secret === '') return ERRCODE.APPSECRET_MISSING;
  if (secret !== account.opts.appSecret) return ERRCODE.INVALID_APPSECRET;
  return 0;
}

/** The appid a token request names (routes it to its account). */
export const classicTokenAppId = (req: ApiRequest): unknown => req.query.get('appid');
export const stableTokenAppId = (req: ApiRequest): unknown => jsonObject(req.body)?.appid;

/** GET /cgi-bin/token?grant_type=client_credential&appid=…&secret=… */
export function classicToken(account: Account, req: ApiRequest): string {
  const q = req.query;
  const code = credentialError(account, q.get('grant_type'), q.get('appid'), q.get('secret'));
  return code ? wxError(code, req.rid) : JSON.stringify(account.tokens.issueReplacing('classic'));
}

/** POST /cgi-bin/stable_token {grant_type, appid, secret, force_refresh?} */
export function stableToken(account: Account, req: ApiRequest): string {
  const b = jsonObject(req.body);
  if (!b) return wxError(ERRCODE.DATA_FORMAT_ERROR, req.rid);
  const code = credentialError(account, b.grant_type, b.appid, b.secret);
  return code ? wxError(code, req.rid) : JSON.stringify(account.tokens.issueStable(b.force_refresh === true));
}
