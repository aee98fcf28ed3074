import { customSend } from './custom-send';
import { apiAddTemplate, deleteTemplate, listTemplates } from './template-admin';
import { templateSend } from './template-send';
import { classicToken, stableToken } from './token';
import type { ApiRoute } from './types';

/** The WeChat API paths the emulator speaks. */
export const API_ROUTES: ReadonlyMap<string, ApiRoute> = new Map<string, ApiRoute>([
  ['/cgi-bin/token', { method: 'GET', needsToken: false, handler: classicToken }],
  ['/cgi-bin/stable_token', { method: 'POST', needsToken: false, handler: stableToken }],
  ['/cgi-bin/message/template/send', { method: 'POST', needsToken: true, handler: templateSend }],
  ['/cgi-bin/message/custom/send', { method: 'POST', needsToken: true, handler: customSend }],
  ['/cgi-bin/template/get_all_private_template', { method: 'GET', needsToken: true, handler: listTemplates }],
  ['/cgi-bin/template/del_private_template', { method: 'POST', needsToken: true, handler: deleteTemplate }],
  ['/cgi-bin/template/api_add_template', { method: 'POST', needsToken: true, handler: apiAddTemplate }],
]);
