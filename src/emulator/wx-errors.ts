/** errmsg texts as WeChat writes them (protocol reference §5.2, §6.1, §7). */
export const WX_ERRMSG: Readonly<Record<number, string>> = {
  [-1]: 'system error',
  40001: 'invalid credential, access_token is invalid or not latest',
  40002: 'invalid grant_type',
  40003: 'invalid openid',
  40008: 'invalid message type',
  40013: 'invalid appid',
  40036: 'invalid template_id size',
  40037: 'invalid template_id',
  40125: 'invalid appsecret',
  41001: 'access_token missing',
  41002: 'appid missing',
  41004: 'appsecret missing',
  42001: 'access_token expired',
  43001: 'require GET method',
  43002: 'require POST method',
  43004: 'require subscribe',
  43101: 'user refuse to accept the msg',
  44004: 'empty content',
  45002: 'content size out of limit',
  45008: 'article size out of limit',
  45009: 'reach max api daily quota limit',
  45015: 'response out of time limit or subscription is canceled',
  45026: 'template num exceeds limit',
  45011: 'api minute-quota reach limit, mustslower retry next minute',
  45047: 'out of response count limit',
  40164: 'invalid ip 127.0.0.1 ipv6 ::ffff:127.0.0.1, not in whitelist',
  47001: 'data format error',
  47003: 'argument invalid!',
};

/** An error answer: `{"errcode":N,"errmsg":"… rid: …"}` (sent with HTTP 200, like WeChat). */
export function wxError(code: number, rid: string, errmsg: string = WX_ERRMSG[code] ?? 'error'): string {
  return JSON.stringify({ errcode: code, errmsg: `${errmsg} rid: ${rid}` });
}

export const WX_OK = '{"errcode":0,"errmsg":"ok"}';
