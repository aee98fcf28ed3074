import { ERRCODE } from '../../wechat/errcodes';

/** The third-party platform errcodes the emulator answers, by the names it uses. */
export const COMPONENT_ERRCODE = {
  NOT_AUTHORIZED: ERRCODE.COMPONENT_NOT_AUTHORIZED,
  TICKET_EXPIRED: ERRCODE.COMPONENT_TICKET_EXPIRED,
  TICKET_INVALID: ERRCODE.COMPONENT_TICKET_INVALID,
  API_NOT_GRANTED: ERRCODE.API_NOT_GRANTED_TO_COMPONENT,
  CODE_INVALID: ERRCODE.AUTH_CODE_INVALID,
  CODE_EXPIRED: ERRCODE.AUTH_CODE_EXPIRED,
  INVALID_COMPONENT: ERRCODE.INVALID_COMPONENT,
  REFRESH_TOKEN_INVALID: ERRCODE.REFRESH_TOKEN_INVALID,
  INVALID_COUNT: ERRCODE.INVALID_COUNT,
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
