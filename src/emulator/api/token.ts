import { ERRCODE } from '../../wechat/errcodes';
import type { EmulatorCore } from '../core';
import { wxError } from '../wx-errors';
import { jsonObject, type ApiRequest } from './types';

/** Credential checks shared by both token endpoints, in WeChat's order. */
function credentialError(core: EmulatorCore, grantType: unknown, appid: unknown, secret: unknown): number {
  if (grantType !== 'client_credential') return ERRCODE.INVALID_GRANT_TYPE;
  if (typeof appid !== 'string' || appid === '') return ERRCODE.APPID_MISSING;
  if (appid !== core.opts.appId) return ERRCODE.INVALID_APPID;
  if (typeof secret !== 'string' || secret === '') return ERRCODE.APPSECRET_MISSING;
  if (secret !== core.opts.appSecret) return ERRCODE.INVALID_APPSECRET;
  return 0;
}

/** GET /cgi-bin/token?grant_type=client_credential&appid=…&secret=… */
export function classicToken(core: EmulatorCore, req: ApiRequest): string {
  const q = req.query;
  const code = credentialError(core, q.get('grant_type'), q.get('appid'), q.get('secret'));
  return code ? wxError(code, req.rid) : JSON.stringify(core.tokens.issueClassic());
}

/** POST /cgi-bin/stable_token {grant_type, appid, secret, force_refresh?} */
export function stableToken(core: EmulatorCore, req: ApiRequest): string {
  const b = jsonObject(req.body);
  if (!b) return wxError(ERRCODE.DATA_FORMAT_ERROR, req.rid);
  const code = credentialError(core, b.grant_type, b.appid, b.secret);
  return code ? wxError(code, req.rid) : JSON.stringify(core.tokens.issueStable(b.force_refresh === true));
}
