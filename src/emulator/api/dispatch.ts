import type { IncomingMessage, ServerResponse } from 'node:http';
import { ERRCODE } from '../../wechat/errcodes';
import type { Account } from '../account';
import { COMPONENT_API_ROUTES } from '../component/api-routes';
import { COMPONENT_ERRCODE } from '../component/errcodes';
import type { EmulatorCore } from '../core';
import type { Faults } from '../faults';
import { readBody, sendJsonText } from '../http';
import { wxError } from '../wx-errors';
import { API_ROUTES } from './routes';
import type { ApiAnswer, ApiRequest, ApiRoute } from './types';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whoever a call is for (an account, or the component): its faults apply and its counters count the call. */
interface Callee {
  faults: Faults;
  count(path: string): void;
}

/**
 * Answers one WeChat API call. The call is first routed to its account (by access_token, or by
 * the appid a token request names; the default account when neither is known) or to the
 * component; then that callee's faults (they stand for the network and WeChat's servers), then
 * method, then token, then the handler. Errors are HTTP 200 with an errcode, like WeChat.
 */
export async function dispatchApi(core: EmulatorCore, path: string, query: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const rid = core.ids.rid();
  // Read the body up front so an early error answer leaves the keep-alive connection clean.
  const readCall = async (): Promise<ApiRequest> => ({ query, body: req.method === 'POST' ? await readBody(req) : '', rid });
  const route = API_ROUTES.get(path);
  if (route) {
    const call = await readCall();
    const account = callerAccount(core, route, call);
    return serve(account, path, route.method, req, res, rid, () => accountAnswer(core, route, account, call));
  }
  const component = core.component;
  const componentRoute = component && COMPONENT_API_ROUTES.get(path);
  if (component && componentRoute) {
    const call = await readCall();
    return serve(component, path, 'POST', req, res, rid, () => {
      if (componentRoute.needsToken) {
        const code = component.tokens.check(query.get('component_access_token') ?? query.get('access_token'));
        if (code) return wxError(code, rid);
      }
      return componentRoute.handler(component, call);
    });
  }
  // Unknown paths share one counter so junk requests cannot grow the map.
  core.defaultAccount.count('(unknown)');
  sendJsonText(res, 404, wxError(404, rid, `invalid url ${path}`));
}

function callerAccount(core: EmulatorCore, route: ApiRoute, call: ApiRequest): Account {
  let found: Account | undefined;
  if (route.caller === 'access_token') {
    const token = call.query.get('access_token');
    found = token ? core.accountByToken(token) : undefined;
  } else {
    const appid = route.caller(call);
    found = typeof appid === 'string' ? core.accounts.get(appid) : undefined;
  }
  return found ?? core.defaultAccount;
}

function accountAnswer(core: EmulatorCore, route: ApiRoute, account: Account, call: ApiRequest): ApiAnswer | Promise<ApiAnswer> {
  if (route.caller === 'access_token') {
    const token = call.query.get('access_token');
    const code = account.tokens.check(token);
    if (code) return wxError(code, call.rid);
    const onBehalf = token !== null && account.tokens.kindOf(token) === 'authorizer';
    if (onBehalf && route.permissionSet !== undefined && !core.component?.grants(account.appId, route.permissionSet)) {
      return wxError(COMPONENT_ERRCODE.API_NOT_GRANTED, call.rid);
    }
  }
  return route.handler(account, call);
}

async function serve(callee: Callee, path: string, method: 'GET' | 'POST', req: IncomingMessage, res: ServerResponse, rid: string, answer: () => ApiAnswer | Promise<ApiAnswer>): Promise<void> {
  callee.count(path);
  const latency = callee.faults.latencyFor(path);
  if (latency > 0) await sleep(latency);
  const fault = callee.faults.actionFor(path);
  if (fault === 'drop') {
    req.socket.destroy();
    return;
  }
  if (fault === 'http5xx') {
    res.writeHead(502, { 'content-type': 'text/html' });
    res.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
    return;
  }
  if (fault === 'errcode') return sendJsonText(res, 200, wxError(callee.faults.errcode(), rid));
  if (req.method !== method) {
    return sendJsonText(res, 200, wxError(method === 'POST' ? ERRCODE.REQUIRE_POST : ERRCODE.REQUIRE_GET, rid));
  }
  sendJsonText(res, 200, await answer());
}
