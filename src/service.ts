import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { projectRoot } from './config/project-root';
import type { Config } from './config/schema';
import { createDelivery } from './delivery/delivery';
import type { Notifications } from './delivery/notifications';
import type { TemplateRegistry } from './delivery/template-registry';
import { JournaledPushes, type JournaledPush } from './delivery/push-journal';
import { WorkLoop } from './delivery/work-loop';
import { within } from './deadline';
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
  /**
   * Stops accepting connections, answers the requests in flight (for up to `DRAIN_MS`), lets the
   * notices in hand finish (until `deadlineMs` from the start), then closes what is left. A notice
   * still in hand then is taken again by any instance when its lease runs out.
   */
  stop(deadlineMs?: number): Promise<void>;
}

// Slow clients: WeChat's pushes and the API's bodies are small, so headers must arrive within
// 5 s and the whole request within 10 s. Node checks every second (its default, 30 s, would let a
// slow client stay several times longer).
const HEADERS_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 10_000;
const TIMEOUT_CHECK_MS = 1_000;
/** WeChat keeps its connections to the endpoint open between pushes. */
const KEEP_ALIVE_MS = 65_000;
/** stop(): a request in flight has arrived within the request timeout, and is answered soon after. */
const DRAIN_MS = REQUEST_TIMEOUT_MS + 2_000;
/** stop(): the whole of it, within the 30 s an orchestrator usually waits after SIGTERM. */
export const STOP_DEADLINE_MS = 25_000;

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
  const wait = { maxWaitMs: config.outage.maxWaitSeconds * 1000, circuit: () => breaker.view(), storeUnreachableAt: () => store.lastUnreachableAt() };
  const http = new JsonHttp(wx.apiBase, wx.timeoutMs, wx.maxInFlight, metrics.wechatCall, breaker);
  const tokens = new TokenSource({ http, appId: wx.appId, appSecret: wx.appSecret, mode: wx.tokenMode, storage: store, onToken: log.secret, now });
  const api = new WechatApiClient(http, tokens);
  const { templates, quota, notifications, dispatcher, intake } = createDelivery(
    store,
    api,
    {
      templates: config.templates,
      retry: config.retry,
      receipt: config.receipt,
      parkSeconds: config.window.parkSeconds,
      retentionSeconds,
      msgidSeconds,
      leaseMs: config.worker.leaseMs,
      // A call may wait for the token (lock, fetch) and then for its own answer.
      callMs: config.worker.leaseMs + 3 * wx.timeoutMs,
      wait,
    },
    log,
    metrics,
    now,
  );
  const loop = new WorkLoop(store, dispatcher, config.worker, log, now);
  const journal = new FileJournal<JournaledPush>(config.pushJournal.file ?? path.join(projectRoot(), 'var', `push-journal-${config.port}.jsonl`));
  const pushes = new JournaledPushes(intake, journal, log);

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
      // the quota pause lives in the store too: no point waiting for it when the store is away
      const paused = detail.store === 'ok' ? await quota.pausedUntil().catch(() => null) : null;
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

  // Once stopping, every answer not yet sent ends its connection, so the drain need not wait for
  // keep-alive connections to go idle (Node closes only those idle when the server closes).
  let stopping = false;
  const unanswered = new Set<ServerResponse>();
  const endConnectionAfter = (res: ServerResponse) => {
    if (!res.headersSent) res.setHeader('Connection', 'close');
  };
  const server = createServer(
    { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: TIMEOUT_CHECK_MS, keepAliveTimeout: KEEP_ALIVE_MS },
    (req, res) => {
      if (stopping) endConnectionAfter(res);
      unanswered.add(res);
      res.once('close', () => unanswered.delete(res));
      app(req, res);
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
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
    async stop(deadlineMs = STOP_DEADLINE_MS) {
      const deadline = Date.now() + deadlineMs;
      const left = () => Math.max(0, deadline - Date.now());
      clearInterval(syncTimer);
      clearInterval(replayTimer);
      stopping = true;
      unanswered.forEach(endConnectionAfter);
      // No new connections; idle keep-alive ones are closed now, busy ones after their answer.
      const drained = new Promise<boolean>((resolve) => server.close(() => resolve(true)));
      if (!(await within(drained, Math.min(DRAIN_MS, left()), () => false))) {
        log.warn('requests still in flight at the stop deadline; closing their connections');
      }
      if (!(await within(loop.stop().then(() => true), left(), () => false))) {
        log.warn('notices still in hand at the stop deadline; they are taken again when their lease runs out');
      }
      server.closeAllConnections();
      await http.close();
      await forwarder?.close();
    },
  };
}
