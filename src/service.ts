import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { projectRoot } from './config/project-root';
import type { Config } from './config/schema';
import { CustomerServiceLeg } from './delivery/customer-service-leg';
import { CustomerServiceWindow } from './delivery/customer-service-window';
import { Dispatcher } from './delivery/dispatcher';
import { Lifecycle } from './delivery/lifecycle';
import { Notifications } from './delivery/notifications';
import { Parking } from './delivery/parking';
import { PushIntake } from './delivery/push-intake';
import { JournaledPushes, type JournaledPush } from './delivery/push-journal';
import { TemplateLeg } from './delivery/template-leg';
import { TemplateQuota } from './delivery/template-quota';
import { TemplateRegistry } from './delivery/template-registry';
import { WorkLoop } from './delivery/work-loop';
import { createApp } from './http/app';
import type { Logger } from './log/logger';
import { createMetrics } from './metrics/metrics';
import { FileJournal } from './store/file-journal';
import type { Store } from './store/store';
import { WechatApiClient } from './wechat/api-client';
import { CircuitBreaker } from './wechat/circuit-breaker';
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
  const breaker = new CircuitBreaker(now, (state) => {
    metrics.wechatCircuit(state !== 'closed');
    if (state === 'open' || state === 'closed') log.warn(state === 'open' ? 'WeChat unreachable: pausing calls' : 'WeChat answers again: calls resume', { circuit: state });
  });
  const wait = { maxWaitMs: config.outage.maxWaitSeconds * 1000, circuit: () => breaker.view() };
  const http = new JsonHttp(wx.apiBase, wx.timeoutMs, wx.maxInFlight, metrics.wechatCall, breaker);
  const tokens = new TokenSource({ http, appId: wx.appId, appSecret: wx.appSecret, mode: wx.tokenMode, storage: store, onToken: log.secret, now });
  const api = new WechatApiClient(http, tokens);
  const templates = new TemplateRegistry(store, api, config.templates, log, now);
  const quota = new TemplateQuota(store, log, now);
  const window = new CustomerServiceWindow(store, config.window.parkSeconds + 86_400, now);
  const lifecycle = new Lifecycle(store, log, metrics, retentionSeconds, now);
  const notifications = new Notifications(store, templates, log, retentionSeconds, metrics, now);
  const parking = new Parking(lifecycle, notifications, window, config.window.parkSeconds, now);
  // A call may wait for the token (lock, fetch) and then for its own answer.
  const callMs = config.worker.leaseMs + 3 * wx.timeoutMs;
  const customerService = new CustomerServiceLeg(lifecycle, api, templates, window, parking, { retry: config.retry, callMs, wait }, now);
  const templateLeg = new TemplateLeg(
    lifecycle,
    notifications,
    store,
    api,
    templates,
    quota,
    customerService,
    { retry: config.retry, receipt: config.receipt, leaseMs: config.worker.leaseMs, msgidSeconds, wait },
    log,
    now,
  );
  const dispatcher = new Dispatcher(lifecycle, notifications, templateLeg, customerService, parking, config.retry.baseDelayMs, log, now);
  const loop = new WorkLoop(store, dispatcher, config.worker, log, now);
  const journal = new FileJournal<JournaledPush>(config.pushJournal.file ?? path.join(projectRoot(), 'var', `push-journal-${config.port}.jsonl`));
  const pushes = new JournaledPushes(new PushIntake(store, templateLeg, parking, window, metrics, log, now), journal, log);

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
      acceptPlaintext: wx.acceptPlaintext,
      signatures: store,
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
      const circuit = breaker.view();
      if (circuit.state !== 'closed') {
        ready = false;
        detail.wechatCircuit = {
          state: circuit.state,
          openSince: new Date(circuit.openSince ?? 0).toISOString(),
          problem: 'WeChat does not answer (connection failures, timeouts or HTTP 5xx): calls are paused and notices wait',
        };
      }
      if (tokens.lastError) {
        ready = false;
        detail.wechat = { errcode: tokens.lastError.errcode, problem: tokens.lastError.fix ?? tokens.lastError.errmsg };
      }
      const paused = await quota.pausedUntil().catch(() => null);
      if (paused) detail.templateQuota = `exhausted (45009): template sends paused until ${new Date(paused).toISOString()}, notifications use the fallback`;
      return { ready, detail };
    },
  });

  const sync = () =>
    templates.sync().catch((err) => log.warn('template list sync failed; keeping what is known', { err }));
  await sync();
  const syncTimer = setInterval(sync, config.templateSync.intervalSeconds * 1000);
  syncTimer.unref();
  // Pushes kept while the store was away (or left by a crash) are applied as soon as it answers.
  const replayTimer = setInterval(() => void pushes.replay().then((n) => n > 0 && loop.poke()), 1000);
  replayTimer.unref();

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
      clearInterval(replayTimer);
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
