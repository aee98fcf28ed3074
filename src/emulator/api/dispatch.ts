import type { IncomingMessage, ServerResponse } from 'node:http';
import { ERRCODE } from '../../wechat/errcodes';
import type { EmulatorCore } from '../core';
import { readBody, sendJsonText } from '../http';
import { wxError } from '../wx-errors';
import { API_ROUTES } from './routes';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Answers one WeChat API call: faults first (they stand for the network and WeChat's servers),
 * then method, then access_token, then the handler. Errors are HTTP 200 with an errcode, like WeChat.
 */
export async function dispatchApi(core: EmulatorCore, path: string, query: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const route = API_ROUTES.get(path);
  const rid = core.ids.rid();
  // Unknown paths share one counter so junk requests cannot grow the map.
  core.count(route ? path : '(unknown)');
  if (!route) {
    sendJsonText(res, 404, wxError(404, rid, `invalid url ${path}`));
    return;
  }
  // Read the body up front so an early error answer leaves the keep-alive connection clean.
  const body = req.method === 'POST' ? await readBody(req) : '';
  const latency = core.faults.latencyFor(path);
  if (latency > 0) await sleep(latency);
  const fault = core.faults.actionFor(path);
  if (fault === 'drop') {
    req.socket.destroy();
    return;
  }
  if (fault === 'http5xx') {
    res.writeHead(502, { 'content-type': 'text/html' });
    res.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
    return;
  }
  if (fault === 'errcode') return sendJsonText(res, 200, wxError(core.faults.errcode(), rid));
  if (req.method !== route.method) {
    return sendJsonText(res, 200, wxError(route.method === 'POST' ? ERRCODE.REQUIRE_POST : ERRCODE.REQUIRE_GET, rid));
  }
  if (route.needsToken) {
    const code = core.tokens.check(query.get('access_token'));
    if (code) return sendJsonText(res, 200, wxError(code, rid));
  }
  sendJsonText(res, 200, await route.handler(core, { query, body, rid }));
}
