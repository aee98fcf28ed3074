import { customSend } from './custom-send';
import { quotaGet } from './quota';
import { apiAddTemplate, deleteTemplate, listTemplates } from './template-admin';
import { templateSend } from './template-send';
import { classicToken, classicTokenAppId, stableToken, stableTokenAppId } from './token';
import type { ApiRoute } from './types';

/**
 * The WeChat Official Account API paths the emulator speaks. Permission sets as the third-party
 * platform documents them: template send is set 7 (mass and notifications), customer-service send set 1 (messages).
 */
export const API_ROUTES: ReadonlyMap<string, ApiRoute> = new Map<string, ApiRoute>([
  ['/cgi-bin/token', { method: 'GET', caller: classicTokenAppId, handler: classicToken }],
  ['/cgi-bin/stable_token', { method: 'POST', caller: stableTokenAppId, handler: stableToken }],
  ['/cgi-bin/message/template/send', { method: 'POST', caller: 'access_token', permissionSet: 7, handler: templateSend }],
  ['/cgi-bin/message/custom/send', { method: 'POST', caller: 'access_token', permissionSet: 1, handler: customSend }],
  ['/cgi-bin/template/get_all_private_template', { method: 'GET', caller: 'access_token', handler: listTemplates }],
  ['/cgi-bin/template/del_private_template', { method: 'POST', caller: 'access_token', handler: deleteTemplate }],
  ['/cgi-bin/template/api_add_template', { method: 'POST', caller: 'access_token', handler: apiAddTemplate }],
  ['/cgi-bin/openapi/quota/get', { method: 'POST', caller: 'access_token', handler: quotaGet }],
]);
