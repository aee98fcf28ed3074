import type { ApiAnswer, ApiRequest } from '../api/types';
import { authorizerInfo, authorizerList, createPreAuthCode, queryAuth } from './api-authorization';
import { authorizerToken, componentToken, startPushTicket } from './api-tokens';
import type { Component } from './component';

export interface ComponentApiRoute {
  /** Needs `component_access_token=` (or `access_token=`) in the query. */
  needsToken: boolean;
  handler: (c: Component, req: ApiRequest) => ApiAnswer;
}

/** The third-party platform API paths the emulator speaks, all POST JSON. */
export const COMPONENT_API_ROUTES: ReadonlyMap<string, ComponentApiRoute> = new Map<string, ComponentApiRoute>([
  ['/cgi-bin/component/api_component_token', { needsToken: false, handler: componentToken }],
  ['/cgi-bin/component/api_start_push_ticket', { needsToken: false, handler: startPushTicket }],
  ['/cgi-bin/component/api_create_preauthcode', { needsToken: true, handler: createPreAuthCode }],
  ['/cgi-bin/component/api_query_auth', { needsToken: true, handler: queryAuth }],
  ['/cgi-bin/component/api_authorizer_token', { needsToken: true, handler: authorizerToken }],
  ['/cgi-bin/component/api_get_authorizer_list', { needsToken: true, handler: authorizerList }],
  ['/cgi-bin/component/api_get_authorizer_info', { needsToken: true, handler: authorizerInfo }],
]);
