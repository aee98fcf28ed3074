/** The third-party platform errcodes the emulator answers (beside the account ones in wechat/errcodes). */
export const COMPONENT_ERRCODE = {
  /** The account revoked (or never granted) the component's authorisation. */
  NOT_AUTHORIZED: 61003,
  TICKET_EXPIRED: 61005,
  TICKET_INVALID: 61006,
  /** The merchant did not grant the permission set of this API. */
  API_NOT_GRANTED: 61007,
  CODE_INVALID: 61009,
  CODE_EXPIRED: 61010,
  INVALID_COMPONENT: 61011,
  REFRESH_TOKEN_INVALID: 61023,
  INVALID_COUNT: 40170,
} as const;

export const COMPONENT_ERRMSG: Readonly<Record<number, string>> = {
  [COMPONENT_ERRCODE.NOT_AUTHORIZED]: 'component is not authorized by this account',
  [COMPONENT_ERRCODE.TICKET_EXPIRED]: 'component ticket is expired',
  [COMPONENT_ERRCODE.TICKET_INVALID]: 'component ticket is invalid',
  [COMPONENT_ERRCODE.API_NOT_GRANTED]: 'api is unauthorized to component',
  [COMPONENT_ERRCODE.CODE_INVALID]: 'invalid authorization code',
  [COMPONENT_ERRCODE.CODE_EXPIRED]: 'authorization code expired',
  [COMPONENT_ERRCODE.INVALID_COMPONENT]: 'invalid component',
  [COMPONENT_ERRCODE.REFRESH_TOKEN_INVALID]: 'refresh_token is invalid',
  [COMPONENT_ERRCODE.INVALID_COUNT]: 'invalid count, count must be at most 500',
};
