/**
 * The WeChat API errcodes wxreach and the emulator act on, each named once (wechatpy keeps the
 * same list as `WeChatErrorCode`). Match on these, never on `errmsg`. What each means is in
 * docs/wechat-protocol-notes.md "Errcodes".
 */
export const ERRCODE = {
  /** WeChat busy; nothing was done. */
  SYSTEM_BUSY: -1,
  /** The access_token is not (or no longer) valid; on the token endpoints: wrong AppSecret. */
  INVALID_CREDENTIAL: 40001,
  INVALID_GRANT_TYPE: 40002,
  INVALID_OPENID: 40003,
  INVALID_MESSAGE_TYPE: 40008,
  INVALID_APPID: 40013,
  INVALID_ACCESS_TOKEN: 40014,
  INVALID_TEMPLATE_ID_SIZE: 40036,
  /** The template does not exist for this account (deleted, never added). */
  INVALID_TEMPLATE_ID: 40037,
  INVALID_APPSECRET: 40125,
  IP_NOT_WHITELISTED: 40164,
  APPSECRET_FROZEN: 40243,
  ACCESS_TOKEN_MISSING: 41001,
  APPID_MISSING: 41002,
  APPSECRET_MISSING: 41004,
  ACCESS_TOKEN_EXPIRED: 42001,
  REQUIRE_GET: 43001,
  REQUIRE_POST: 43002,
  /** The user does not follow the account. */
  REQUIRE_SUBSCRIBE: 43004,
  /** The user is on the account's blacklist. */
  USER_BLACKLISTED: 43019,
  /** The user refused this one template. */
  USER_REFUSED_TEMPLATE: 43101,
  EMPTY_CONTENT: 44004,
  CONTENT_TOO_LONG: 45002,
  TOO_MANY_ARTICLES: 45008,
  /** The daily quota of this API is used up (until midnight China time). */
  DAILY_QUOTA_EXHAUSTED: 45009,
  MINUTE_QUOTA_EXHAUSTED: 45011,
  /** No customer-service window: none opened, it expired, or the user unfollowed. */
  WINDOW_CLOSED: 45015,
  TOO_MANY_TEMPLATES: 45026,
  /** The customer-service window is open but its messages are used up. */
  WINDOW_QUOTA_USED: 45047,
  DATA_FORMAT_ERROR: 47001,
  /** A template value is missing or breaks the field rules; errmsg names the field. */
  INVALID_TEMPLATE_ARGUMENT: 47003,
  API_UNAUTHORIZED: 48001,
  /** The user turned off "receive messages" for the account. */
  USER_BLOCKED_MESSAGES: 48002,
  API_BANNED: 48004,
  ACCOUNT_FROZEN: 50007,
  /** Third-party platform: the account revoked (or never granted) the platform's authorisation. */
  COMPONENT_NOT_AUTHORIZED: 61003,
  /** What the newer platform answers for a caller outside the IP whitelist. */
  IP_NOT_WHITELISTED_NEW: 61004,
  /** Third-party platform: the component_verify_ticket is stale / not one WeChat issued. */
  COMPONENT_TICKET_EXPIRED: 61005,
  COMPONENT_TICKET_INVALID: 61006,
  /** Third-party platform: the merchant did not grant the permission set of this API. */
  API_NOT_GRANTED_TO_COMPONENT: 61007,
  /** Third-party platform: the authorization code is used, unknown or for another account / expired. */
  AUTH_CODE_INVALID: 61009,
  AUTH_CODE_EXPIRED: 61010,
  INVALID_COMPONENT: 61011,
  /** Third-party platform: the authorizer refresh token is stale, lost or revoked. */
  REFRESH_TOKEN_INVALID: 61023,
  /** A list call asked for more than it may (api_get_authorizer_list: at most 500). */
  INVALID_COUNT: 40170,
  IP_AWAITING_CONFIRMATION: 89501,
  IP_NEEDS_CONFIRMATION: 89503,
  IP_BLOCKED_24H: 89506,
  IP_BLOCKED_1H: 89507,
  /** openapi/quota/get: the cgi_path is not an API path WeChat knows. */
  CGI_PATH_NOT_FOUND: 76021,
} as const;

/** Errcodes that mean "this access_token is not (or no longer) good": refetch and retry once. */
export const TOKEN_ERRCODES: ReadonlySet<number> = new Set([ERRCODE.INVALID_CREDENTIAL, ERRCODE.INVALID_ACCESS_TOKEN, ERRCODE.ACCESS_TOKEN_EXPIRED]);
