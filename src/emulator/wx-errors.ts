import { ERRCODE } from '../wechat/errcodes';
import { COMPONENT_ERRMSG } from './component/errcodes';

/** errmsg texts as WeChat writes them (docs/wechat-protocol-notes.md "Errcodes"). */
export const WX_ERRMSG: Readonly<Record<number, string>> = {
  [ERRCODE.SYSTEM_BUSY]: 'system error',
  [ERRCODE.INVALID_CREDENTIAL]: 'invalid credential, access_token is invalid or not latest',
  [ERRCODE.INVALID_GRANT_TYPE]: 'invalid grant_type',
  [ERRCODE.INVALID_OPENID]: 'invalid openid',
  [ERRCODE.INVALID_MESSAGE_TYPE]: 'invalid message type',
  [ERRCODE.INVALID_APPID]: 'invalid appid',
  [ERRCODE.INVALID_TEMPLATE_ID_SIZE]: 'invalid template_id size',
  [ERRCODE.INVALID_TEMPLATE_ID]: 'invalid template_id',
  [ERRCODE.INVALID_APPSECRET]: 'invalid appsecret',
  [ERRCODE.ACCESS_TOKEN_MISSING]: 'access_token missing',
  [ERRCODE.APPID_MISSING]: 'appid missing',
  [ERRCODE.APPSECRET_MISSING]: 'appsecret missing',
  [ERRCODE.ACCESS_TOKEN_EXPIRED]: 'access_token expired',
  [ERRCODE.REQUIRE_GET]: 'require GET method',
  [ERRCODE.REQUIRE_POST]: 'require POST method',
  [ERRCODE.REQUIRE_SUBSCRIBE]: 'require subscribe',
  [ERRCODE.USER_REFUSED_TEMPLATE]: 'user refuse to accept the msg',
  [ERRCODE.EMPTY_CONTENT]: 'empty content',
  [ERRCODE.CONTENT_TOO_LONG]: 'content size out of limit',
  [ERRCODE.TOO_MANY_ARTICLES]: 'article size out of limit',
  [ERRCODE.DAILY_QUOTA_EXHAUSTED]: 'reach max api daily quota limit',
  [ERRCODE.WINDOW_CLOSED]: 'response out of time limit or subscription is canceled',
  [ERRCODE.TOO_MANY_TEMPLATES]: 'template num exceeds limit',
  [ERRCODE.MINUTE_QUOTA_EXHAUSTED]: 'api minute-quota reach limit, mustslower retry next minute',
  [ERRCODE.WINDOW_QUOTA_USED]: 'out of response count limit',
  [ERRCODE.IP_NOT_WHITELISTED]: 'invalid ip 127.0.0.1 ipv6 ::ffff:127.0.0.1, not in whitelist',
  [ERRCODE.DATA_FORMAT_ERROR]: 'data format error',
  [ERRCODE.INVALID_TEMPLATE_ARGUMENT]: 'argument invalid!',
  [ERRCODE.IP_NOT_WHITELISTED_NEW]: 'access clientip is not registered',
  [ERRCODE.CGI_PATH_NOT_FOUND]: 'cgi_path not found, please check',
  ...COMPONENT_ERRMSG,
};

/** An error answer: `{"errcode":N,"errmsg":"… rid: …"}` (sent with HTTP 200, like WeChat). */
export function wxError(code: number, rid: string, errmsg: string = WX_ERRMSG[code] ?? 'error'): string {
  return JSON.stringify({ errcode: code, errmsg: `${errmsg} rid: ${rid}` });
}

export const WX_OK = '{"errcode":0,"errmsg":"ok"}';
