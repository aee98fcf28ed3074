import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config/schema';
import { Dispatcher } from './delivery/dispatcher';
import { FallbackSender } from './delivery/fallback-sender';
import { Notifications } from './delivery/notifications';
import { PushHandler } from './delivery/push-handler';
import { TemplateRegistry } from './delivery/template-registry';
import { ServiceWindow } from './delivery/window';
import { WorkLoop } from './delivery/work-loop';
import { createApp } from './http/app';
import type { Logger } from './log/logger';
import { createMetrics } from './metrics/metrics';
import type { Store } from './store/store';
import { WechatApiClient } from './wechat/api-client';
import { WechatCipher } from './wechat/cipher';
import { PushForwarder } from './wechat/forwarder';
import { JsonHttp } from './wechat/http-json';
import { TokenSource } from './wechat/token-source';

export interface ServiceOptions {
  config: Config;
  store: Store;
  log: Logger;
  /** Tests move time forward; defaults to the wall clock. */
  now?: () => number;
  /** Listen host (default 127.0.0.1 in tests, 0.0.0.0 from main). */
  host?: string;
}

export interface Service {
  url: string;
  server: Server;
  notifications: Notifications;
  templates: TemplateRegistry;
  tokens: TokenSource;
  loop: WorkLoop;
  stop(): Promise<void>;
}

/** Wires wxreach together: the WeChat client, delivery, the HTTP server and the work loop. */
export async function startService(options: ServiceOptions): Promise<Service> {
  const { config, store, log } = options;
  const now = options.now ?? Date.now;
  const wx = config.wechat;
  if (!wx.appId || !wx.appSecret || !wx.token) throw new Error('startService needs wechat.appId, appSecret and token');
  for (const s of [wx.appSecret, wx.aesKey, wx.token, ...config.apiKeys]) log.secret(s);

  const retentionSeconds = config.retentionDays * 86_400;
  // Receipts come within minutes; a msgid link (or an early receipt) need not live as long as the notice.
  const msgidSeconds = Math.min(retentionSeconds, Math.max(86_400, 2 * config.receipt.timeoutSeconds));
  const metrics = createMetrics(() => store.scheduleInfo(), now);
  const http = new JsonHttp(wx.apiBase, wx.timeoutMs, wx.maxInFlight, metrics.wechatCall);
  const tokens = new TokenSource({ http, appId: wx.appId, appSecret: wx.appSecret, mode: wx.tokenMode, storage: store, onToken: log.secret, now });
  const api = new WechatApiClient(http, tokens);
  const templates = new TemplateRegistry(store, api, config.templates, log, now);
  const window = new ServiceWindow(store, config.window.parkSeconds + 86_400, now);
  const notifications = new Notifications(store, templates, log, retentionSeconds, metrics, now);
  // A call may wait for the token (lock, fetch) and then for its own answer.
  const callMs = config.worker.leaseMs + 3 * wx.timeoutMs;
  const fallback = new FallbackSender(notifications, api, templates, window, { retry: config.retry, parkSeconds: config.window.parkSeconds, callMs }, now);
  const dispatcher = new Dispatcher(
    notifications,
    api,
    templates,
    fallback,
    { retry: config.retry, receipt: config.receipt, leaseMs: config.worker.leaseMs, msgidSeconds },
    log,
    now,
  );
  const loop = new WorkLoop(store, dispatcher, config.worker, log, now);
  const pushes = new PushHandler(store, notifications, window, msgidSeconds, metrics, log, now);

  const forward = config.forward;
  const forwarder = forward.url
    ? new PushForwarder({ url: forward.url, token: forward.token ?? wx.token, timeoutMs: forward.timeoutMs }, (reason) =>
        log.warn('push not forwarded', { reason }),
      )
    : undefined;

  const app = createApp({
    log,
    metrics,
    api: { notifications, templates, apiKeys: config.apiKeys, onAccepted: () => loop.poke() },
    wechat: {
      token: wx.token,
      cipher: wx.aesKey ? new WechatCipher(wx.aesKey, wx.appId) : null,
      skewSeconds: wx.timestampSkewSeconds,
      handler: pushes,
      log,
      onWorkDue: () => loop.poke(),
      forwarder,
      now,
    },
    readiness: async () => {
      const detail: Record<string, unknown> = {};
      let ready = true;
      try {
        await store.ping();
        detail.store = 'ok';
      } catch (err) {
        ready = false;
        detail.store = `unreachable: ${(err as Error).message}`;
      }
      if (tokens.lastError) {
        ready = false;
        detail.wechat = { errcode: tokens.lastError.errcode, problem: tokens.lastError.fix ?? tokens.lastError.errmsg };
      }
      // the quota pause lives in the store too: no point waiting for it when the store is away
      const paused = detail.store === 'ok' ? await templates.quotaPausedUntil().catch(() => null) : null;
      if (paused) detail.templateQuota = `exhausted (45009): template sends paused until ${new Date(paused).toISOString()}, notifications use the fallback`;
      return { ready, detail };
    },
  });

  const sync = () =>
    templates.sync().catch((err) => log.warn('template list sync failed; keeping what is known', { err }));
  await sync();
  const syncTimer = setInterval(sync, config.templateSync.intervalSeconds * 1000);
  syncTimer.unref();

  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, options.host ?? '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  // WeChat waits 5 s; keep sockets around for its keep-alive connections.
  server.keepAliveTimeout = 65_000;
  loop.start();
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1'}:${port}`;
  log.info('wxreach listening', { url, appId: wx.appId, mode: wx.aesKey ? 'safe/compatible' : 'plaintext' });

  return {
    url,
    server,
    notifications,
    templates,
    tokens,
    loop,
    async stop() {
      clearInterval(syncTimer);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await loop.stop();
      await http.close();
      await forwarder?.close();
    },
  };
}
