import type { XmlFields } from '../xml';

/** A decrypted push to the authorisation-event URL, typed. */
export type AuthorizationEvent =
  | { kind: 'ticket'; createTime: number; ticket: string }
  /** `updateauthorized`: the merchant changed the granted permission sets; same fields. */
  | { kind: 'authorized' | 'updateauthorized'; createTime: number; appid: string; code: string }
  | { kind: 'unauthorized'; createTime: number; appid: string }
  /** An InfoType wxreach does not act on (fast registration results and the like). */
  | { kind: 'other'; createTime: number; infoType: string; appid: string };

export class AuthorizationEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthorizationEventError';
  }
}

/** The fields of a decrypted authorisation-event push; `componentAppId` must be its AppId. */
export function parseAuthorizationEvent(f: XmlFields, componentAppId: string): AuthorizationEvent {
  if (f.AppId !== componentAppId) throw new AuthorizationEventError('the push names another platform in AppId');
  if (!/^\d{1,12}$/.test(f.CreateTime ?? '')) throw new AuthorizationEventError('the push has no valid CreateTime');
  const createTime = Number(f.CreateTime);
  const infoType = f.InfoType ?? '';
  const appid = f.AuthorizerAppid ?? '';
  switch (infoType) {
    case 'component_verify_ticket':
      // Passed on exactly as received, `ticket@@@` prefix included.
      if (!f.ComponentVerifyTicket) throw new AuthorizationEventError('component_verify_ticket push without ComponentVerifyTicket');
      return { kind: 'ticket', createTime, ticket: f.ComponentVerifyTicket };
    case 'authorized':
    case 'updateauthorized':
      if (!appid || !f.AuthorizationCode) throw new AuthorizationEventError(`${infoType} push without AuthorizerAppid or AuthorizationCode`);
      return { kind: infoType, createTime, appid, code: f.AuthorizationCode };
    case 'unauthorized':
      if (!appid) throw new AuthorizationEventError('unauthorized push without AuthorizerAppid');
      return { kind: 'unauthorized', createTime, appid };
    default:
      if (!infoType) throw new AuthorizationEventError('the push has no InfoType');
      return { kind: 'other', createTime, infoType, appid };
  }
}

/** Identity of an authorisation push across WeChat's re-sends: the ticket keeps no history, so it needs none. */
export function authorizationEventKey(e: Exclude<AuthorizationEvent, { kind: 'ticket' }>): string {
  const infoType = e.kind === 'other' ? e.infoType : e.kind;
  return `${e.appid}:${infoType}:${e.createTime}`;
}
