import { ERRCODE } from './errcodes';

/** WeChat answered with a non-zero errcode. Match on `errcode`, never on `errmsg`. */
export class WechatApiError extends Error {
  constructor(
    readonly errcode: number,
    readonly errmsg: string,
    readonly path: string,
  ) {
    super(`${path} answered errcode ${errcode}: ${errmsg}`);
    this.name = 'WechatApiError';
  }
}

/**
 * No usable answer. `sent` says whether WeChat may have acted on the request: 'no' when the
 * connection was never made (safe to repeat anything), 'maybe' when it left and no answer came
 * (a timeout, a reset) — only idempotent calls may be repeated then.
 */
export class WechatTransportError extends Error {
  constructor(
    readonly path: string,
    readonly sent: 'no' | 'maybe',
    readonly reason: string,
  ) {
    super(`${path} failed: ${reason}`);
    this.name = 'WechatTransportError';
  }
}

const WHITELIST_FIX = "this server's outbound IP is not in the account's API IP whitelist (MP console: Settings & Development > Basic Configuration > IP whitelist)";

/** Errcodes of the token endpoints that a person must fix, with the fix. */
export const TOKEN_FIXES: Readonly<Record<number, string>> = {
  [ERRCODE.INVALID_APPID]: 'WECHAT_APPID is not a valid AppID',
  [ERRCODE.INVALID_APPSECRET]: 'WECHAT_APPSECRET is wrong for this AppID',
  [ERRCODE.INVALID_CREDENTIAL]: 'WECHAT_APPSECRET is wrong for this AppID',
  [ERRCODE.IP_NOT_WHITELISTED]: WHITELIST_FIX,
  [ERRCODE.IP_NOT_WHITELISTED_NEW]: WHITELIST_FIX,
  [ERRCODE.IP_NEEDS_CONFIRMATION]: 'WeChat asks an administrator to confirm this server IP; add it to the API IP whitelist to skip the confirmation',
  [ERRCODE.IP_AWAITING_CONFIRMATION]: 'WeChat is waiting for an administrator to confirm this server IP; add it to the API IP whitelist',
  [ERRCODE.IP_BLOCKED_24H]: 'an administrator refused this server IP twice; it is blocked for 24 hours. Add it to the API IP whitelist',
  [ERRCODE.IP_BLOCKED_1H]: 'an administrator refused this server IP; it is blocked for 1 hour. Add it to the API IP whitelist',
  [ERRCODE.APPSECRET_FROZEN]: 'the AppSecret is frozen; reset it in the MP console',
  [ERRCODE.ACCOUNT_FROZEN]: 'the account is frozen',
};
