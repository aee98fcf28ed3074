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

/** Errcodes that mean "this access_token is not (or no longer) good": refetch and retry once. */
export const TOKEN_ERRCODES: ReadonlySet<number> = new Set([40001, 40014, 42001]);

/** Errcodes of the token endpoints that a person must fix, with the fix. */
export const TOKEN_FIXES: Readonly<Record<number, string>> = {
  40013: 'WECHAT_APPID is not a valid AppID',
  40125: 'WECHAT_APPSECRET is wrong for this AppID',
  40001: 'WECHAT_APPSECRET is wrong for this AppID',
  40164: "this server's outbound IP is not in the account's API IP whitelist (MP console: Settings & Development > Basic Configuration > IP whitelist)",
  61004: "this server's outbound IP is not in the account's API IP whitelist (MP console: Settings & Development > Basic Configuration > IP whitelist)",
  89503: 'WeChat asks an administrator to confirm this server IP; add it to the API IP whitelist to skip the confirmation',
  89501: 'WeChat is waiting for an administrator to confirm this server IP; add it to the API IP whitelist',
  89506: 'an administrator refused this server IP twice; it is blocked for 24 hours. Add it to the API IP whitelist',
  89507: 'an administrator refused this server IP; it is blocked for 1 hour. Add it to the API IP whitelist',
  40243: 'the AppSecret is frozen; reset it in the MP console',
  50007: 'the account is frozen',
};
