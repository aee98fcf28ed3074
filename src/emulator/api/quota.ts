import { TEMPLATE_SEND_PATH } from '../../wechat/api-client';
import { ERRCODE } from '../../wechat/errcodes';
import type { Account } from '../account';
import { wxError } from '../wx-errors';
import { jsonObject, type ApiRequest } from './types';

/**
 * POST /cgi-bin/openapi/quota/get `{ cgi_path }`: an API's daily quota today. The emulator keeps
 * the template send quota (the one it enforces with 45009): the limit it was given, the sends that
 * reached the quota check today (China day, on the virtual clock), what is left. Another path
 * answers 76021 as WeChat does for a path it does not know; a body without `cgi_path`, 47001.
 */
export function quotaGet(account: Account, req: ApiRequest): string {
  const b = jsonObject(req.body);
  if (!b || typeof b.cgi_path !== 'string') return wxError(ERRCODE.DATA_FORMAT_ERROR, req.rid);
  if (b.cgi_path !== TEMPLATE_SEND_PATH) return wxError(ERRCODE.CGI_PATH_NOT_FOUND, req.rid);
  const { state, opts } = account;
  const used = state.quotaDay === account.clock.chinaDay() ? state.quotaUsed : 0;
  const limit = opts.dailyTemplateQuota;
  return JSON.stringify({ errcode: 0, errmsg: 'ok', quota: { daily_limit: limit, used, remain: Math.max(0, limit - used) } });
}
