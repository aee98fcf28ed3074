import { createServer, type Server } from 'node:http';
import { ERRCODE } from '../wechat/errcodes';
import { dispatchApi } from './api/dispatch';
import { LOGIN_PAGE_PATH, serveLoginPage } from './component/login-page';
import { dispatchControl } from './control-routes';
import type { EmulatorControl } from './control';
import type { EmulatorCore } from './core';
import { BodyTooLarge, sendJson } from './http';

/** One node:http server for the WeChat API paths, the component's authorisation page and the `/_emulator` control API. */
export function createEmulatorServer(core: EmulatorCore, control: EmulatorControl): Server {
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
    const work = (async () => {
      if (path === '/_emulator' || path.startsWith('/_emulator/')) return dispatchControl(core, control, path, req, res);
      if (path === LOGIN_PAGE_PATH && core.component && req.method === 'GET') return serveLoginPage(core.component, query, res);
      return dispatchApi(core, path, query, req, res);
    })();
    // Never crash on bad input: anything unexpected becomes a 500 (or 413 for a huge body).
    work.catch((err: unknown) => {
      if (res.headersSent || res.destroyed) return;
      if (err instanceof BodyTooLarge) return sendJson(res, 413, { errcode: ERRCODE.DATA_FORMAT_ERROR, errmsg: 'data format error: body too large' });
      sendJson(res, 500, { errcode: ERRCODE.SYSTEM_BUSY, errmsg: `system error: ${(err as Error).message}` });
    });
  });
  // Clients keep connections alive between sends; outlive their idle timeouts.
  server.keepAliveTimeout = 65_000;
  return server;
}
