import { ERRCODE } from '../errcodes';

/**
 * The errcodes of WeChat's third-party platform ("component") APIs that wxreach acts on, each named
 * once. Match on these, never on `errmsg`.
 */
export const COMPONENT_ERRCODE = {
  /** The merchant revoked the authorisation (the account no longer authorises this platform). */
  NOT_AUTHORIZED: 61003,
  /** component_verify_ticket expired. */
  TICKET_EXPIRED: 61005,
  /** component_verify_ticket invalid. */
  TICKET_INVALID: 61006,
  /** Authorisation code invalid: already used, another platform's, or not a code at all. */
  CODE_INVALID: 61009,
  /** Authorisation code expired. */
  CODE_EXPIRED: 61010,
  /** The component appid is not a valid third-party platform. */
  INVALID_COMPONENT: 61011,
  /** The authoriser refresh token is invalid (stale, lost, or the merchant revoked). */
  REFRESH_TOKEN_INVALID: 61023,
} as const;

/** Errcodes meaning "the verify ticket is no good": ask WeChat to push a new one and wait for it. */
export const TICKET_ERRCODES: ReadonlySet<number> = new Set([COMPONENT_ERRCODE.TICKET_EXPIRED, COMPONENT_ERRCODE.TICKET_INVALID]);

const WHITELIST_FIX = "this server's outbound IP is not in the third-party platform's IP whitelist (open platform console: the platform's development settings)";

/** Errcodes of the component token endpoints that a person must fix, with the fix. */
export const COMPONENT_TOKEN_FIXES: Readonly<Record<number, string>> = {
  [ERRCODE.IP_NOT_WHITELISTED_NEW]: WHITELIST_FIX,
  [ERRCODE.IP_NOT_WHITELISTED]: WHITELIST_FIX,
  [ERRCODE.INVALID_APPSECRET]: 'component.appSecret is wrong for component.appId',
  [ERRCODE.APPSECRET_MISSING]: 'component.appSecret is missing',
  [COMPONENT_ERRCODE.INVALID_COMPONENT]: 'component.appId is not a third-party platform',
  [COMPONENT_ERRCODE.TICKET_EXPIRED]: 'no fresh component_verify_ticket: check that WeChat can reach POST /wechat/component (the authorisation-event URL)',
  [COMPONENT_ERRCODE.TICKET_INVALID]: 'no valid component_verify_ticket: check that WeChat can reach POST /wechat/component (the authorisation-event URL)',
  [COMPONENT_ERRCODE.NOT_AUTHORIZED]: 'the merchant revoked the authorisation; it must authorise again (GET /v1/component/authorize-url)',
  [COMPONENT_ERRCODE.REFRESH_TOKEN_INVALID]: 'the refresh token is lost; run `wxreach accounts recover`, or have the merchant authorise again',
};
