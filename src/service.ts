import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { projectRoot } from './config/project-root';
import type { Router } from 'express';
import { ownAccounts, templatesOf } from './config/accounts';
import type { Config } from './config/schema';
import { Accounts, type Account, type AuthorizerDirectory, type PushCredentials } from './delivery/accounts';
import { createDelivery } from './delivery/delivery';
import { JournaledPushes, type JournaledPush } from './delivery/push-journal';
import { STREAM_GROUP, StreamIntake } from './delivery/stream-intake';
import { WorkLoop } from './delivery/work-loop';
import { within } from './deadline';
import { requestListener } from './http/app';
import { createConsole } from './console/console';
import { webhookRouter } from './http/webhook-router';
import { CallbackStats, LAST_PUSH_KEY } from './http/callback-stats';
import { statsRouter } from './http/stats-router';
import { apiKeySet, parseApiKey } from './http/auth';
import { BODY_LIMIT_BYTES } from './http/body-limit';
import { NotificationIntake } from './http/notification-intake';
import type { EdgeAccount, PushInterceptor } from './http/wechat-router';
import type { Logger } from './log/logger';
import { createMetrics } from './metrics/metrics';
import { Webhooks } from './outbound/webhooks';
import { FileJournal } from './store/file-journal';
import type { Store } from './store/store';
import { StoreUnavailableError } from './store/unavailable';
import { eachLimited } from './each-limited';
import { WechatApiClient } from './wechat/api-client';
import { CircuitBreaker } from './wechat/circuit-breaker';
import { WechatCipher } from './wechat/cipher';
import { PushForwarder } from './wechat/forwarder';
import { JsonHttp } from './wechat/http-json';
import type { PlatformEvents } from './wechat/component/platform';
import type { AccessTokens } from './wechat/access-tokens';
import { TokenSource } from './wechat/token-source';

/** The third-party platform as the service wires it (src/wechat/component). */
export interface PlatformWiring {
  directory: AuthorizerDirectory;
  /** POST /wechat/component and its authorisation callback. */
  edgeRouter: Router;
  /** /v1/component/… (authorize-url, recover), behind the API key check. */
  apiRouter: Router;
  /** WeChat's release test of a platform. */
  interceptor: PushInterceptor;
  /** For /readyz: the age of the verify ticket, a refused component token. */
  health(): Promise<unknown>;
  close(): Promise<void>;
}

export interface ServiceOptions {
  config: Config;
  store: Store;
  log: Logger;
  /** Third-party platform mode: builds the platform on the service's WeChat client and store (src/platform-wiring.ts). */
  platform?: (deps: { http: JsonHttp; store: Store; log: Logger; now: () => number; events: PlatformEvents }) => PlatformWiring;
  /** Tests move time forward; defaults to the wall clock. */
  now?: () => number;
  /** Listen host (default 127.0.0.1 in tests, 0.0.0.0 from main). */
  host?: string;
}

export interface Service {
  url: string;
  server: Server;
  accounts: Accounts;
  /** An account's runtime; without an appid, the single account's (throws when there is none). */
  account(appid?: string): Account;
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
/** Template lists of this many accounts are synced at once. */
const SYNC_CONCURRENCY = 4;

/** Wires wxreach together: the accounts (token, API client, delivery each), the HTTP server and the work loop. */
export async function startService(options: ServiceOptions): Promise<Service> {
  const { config, store, log } = options;
  const now = options.now ?? Date.now;
  const wx = config.wechat;
  const own = ownAccounts(config);
  if (own.length === 0 && !config.component) throw new Error('startService needs an account: wechat.appId, accounts or component');
  for (const a of own) [a.appSecret, a.aesKey, a.token].forEach(log.secret);
  if (config.component) [config.component.appSecret, config.component.aesKey, config.component.token].forEach(log.secret);
  for (const entry of [...config.apiKeys, ...config.operatorKeys]) log.secret(parseApiKey(entry).key);

  const retentionSeconds = config.retentionDays * 86_400;
  // Receipts come within minutes; a msgid link (or an early receipt) need not live as long as the notice.
  const msgidSeconds = Math.min(retentionSeconds, Math.max(86_400, 2 * config.receipt.timeoutSeconds));
  const metrics = createMetrics(
    {
      schedule: () => store.scheduleInfo(),
      webhookEventsWaiting: () => store.webhooks.waitingEvents(),
      webhookDeliveriesScheduled: () => webhooks.scheduledDeliveries(),
    },
    now,
  );
  const breaker = new CircuitBreaker(now, (state) => {
    metrics.wechatCircuit(state !== 'closed');
    if (state === 'open' || state === 'closed') log.warn(state === 'open' ? 'WeChat unreachable: pausing calls' : 'WeChat answers again: calls resume', { circuit: state });
  });
  const wait = { maxWaitMs: config.outage.maxWaitSeconds * 1000, circuit: () => breaker.view(), storeUnreachableAt: () => store.lastUnreachableAt() };
  const http = new JsonHttp(wx.apiBase, wx.timeoutMs, wx.maxInFlight, metrics.wechatCall, breaker);
  const webhooks = new Webhooks(store.webhooks, { ...config.webhooks, retentionSeconds, pollMs: config.worker.pollMs }, log, metrics, now);
  // --- statistics: counters kept stats.retentionDays; the answers to WeChat timed per instance
  const statsRetentionSeconds = config.stats.retentionDays * 86_400;
  const callbackStats = new CallbackStats({
    counters: store.counters,
    keepSeconds: statsRetentionSeconds,
    markPush: (appid, at) => store.forAccount(appid).setValue(LAST_PUSH_KEY, at),
    log,
    now,
  });
  // A merchant's authorisation changes: a new one gets its templates synced; a revoked one's
  // notices all become due now, and the work loop ends each (`account_unauthorized`).
  const events: PlatformEvents = {
    authorized: (appid) => {
      void accounts
        .runtime(appid)
        .delivery.templates.sync()
        .catch((err) => log.warn('template list sync failed; keeping what is known', { account: appid, err }));
    },
    unauthorized: async (appid) => {
      await webhooks.accountUnauthorized(appid);
      const ended = await store.forAccount(appid).allDueNow(now());
      log.warn('account revoked its authorisation: its notices end now', { account: appid, notices: ended });
      loop.poke();
    },
  };
  const platform = options.platform ? options.platform({ http, store, log, now, events }) : null;

  const deliverySettings = {
    retry: config.retry,
    receipt: config.receipt,
    parkSeconds: config.window.parkSeconds,
    retentionSeconds,
    statsRetentionSeconds,
    msgidSeconds,
    leaseMs: config.worker.leaseMs,
    // A call may wait for the token (lock, fetch) and then for its own answer.
    callMs: config.worker.leaseMs + 3 * wx.timeoutMs,
    wait,
    searchFields: config.searchFields,
  };
  const accounts: Accounts = new Accounts({
    own,
    directory: platform?.directory ?? null,
    build(appid, kind) {
      const accountStore = store.forAccount(appid);
      const mine = accounts.ownAccount(appid);
      const tokens: AccessTokens = mine
        ? new TokenSource({ http, appId: appid, appSecret: mine.appSecret, mode: mine.tokenMode, storage: accountStore, onToken: log.secretUntil, now })
        : (platform as PlatformWiring).directory.tokensFor(appid);
      const delivery = createDelivery(
        accountStore,
        new WechatApiClient(http, tokens),
        {
          ...deliverySettings,
          templates: mine ? mine.templates : templatesOf(config),
          accountState: mine ? undefined : () => accounts.state(appid),
          onTemplateValidity: (change) => webhooks.templateValidity(appid, change),
          eventWanted: (type) => webhooks.registry.mayWant(type, appid),
        },
        log,
        metrics,
        now,
      );
      const push: PushCredentials = mine
        ? { token: mine.token, cipher: mine.aesKey ? new WechatCipher(mine.aesKey, appid) : null, acceptPlaintext: mine.acceptPlaintext }
        : { ...(platform as PlatformWiring).directory.pushCredentials, acceptPlaintext: false };
      return { appid, kind, store: accountStore, tokens, delivery, push };
    },
  });
  const single = accounts.single();

  const loop = new WorkLoop(store, (appid) => accounts.runtime(appid).delivery.dispatcher, config.worker, log, now);
  const journal = new FileJournal<JournaledPush>(config.pushJournal.file ?? path.join(projectRoot(), 'var', `push-journal-${config.port}.jsonl`));
  const pushes = new JournaledPushes((appid) => (appid === null ? single : accounts.runtime(appid))?.delivery.intake ?? null, journal, log);

  // The business's own server gets the pushes of the single account (it has one URL and one Token).
  const forward = config.forward;
  const forwarder =
    forward.url && single
      ? new PushForwarder({ url: forward.url, token: forward.token ?? single.push.token, timeoutMs: forward.timeoutMs }, (reason) =>
          log.warn('push not forwarded', { reason }),
        )
      : undefined;
  const edgeOf = (a: Account): EdgeAccount => ({ appid: a.appid, push: a.push, signatures: a.store, forwarder: a === single ? forwarder : undefined });

  const keys = apiKeySet(config.apiKeys, config.operatorKeys);
  const operatorConsole = createConsole({ kv: store.deployment, keys });
  const app = requestListener({
    log,
    metrics,
    console: operatorConsole.router,
    api: {
      consoleAuth: operatorConsole.auth,
      accounts,
      accountOfId: (id) => store.accountOfId(id),
      keys,
      onAccepted: () => loop.poke(),
      more: [
        platform?.apiRouter,
        webhookRouter({ webhooks, accountState: (appid) => accounts.state(appid), notifications: { accounts, accountOfId: (id) => store.accountOfId(id) } }),
        statsRouter({
          accountState: (appid) => accounts.state(appid),
          activeAppids: () => accounts.activeAppids(),
          accountCounters: (appid) => store.forAccount(appid),
          deploymentCounters: store.counters,
          flushCallbacks: () => callbackStats.flush(),
          now,
        }),
      ],
      log,
    },
    wechat: {
      async account(appid) {
        if (appid === null) return single && edgeOf(single);
        try {
          const a = await accounts.active(appid);
          return a && edgeOf(a);
        } catch (err) {
          // Whether a merchant is authorised is in the store: while it is away, a push that proves
          // to be from the platform is kept in the push journal like any other.
          if (!(err instanceof StoreUnavailableError) || !platform || accounts.ownAccount(appid)) throw err;
          return { appid, push: { ...platform.directory.pushCredentials, acceptPlaintext: false }, signatures: store.forAccount(appid), unconfirmed: true };
        }
      },
      skewSeconds: wx.timestampSkewSeconds,
      handler: pushes,
      interceptor: platform?.interceptor,
      log,
      onWorkDue: () => loop.poke(),
      now,
    },
    componentEdge: platform?.edgeRouter,
    callbacks: callbackStats,
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
      // One account's refused token stalls that account only: the instance is not ready only when
      // every own account is refused (with one account, when it is).
      const refused = own.map((a) => accounts.runtime(a.appId)).filter((a) => a.tokens.lastError);
      if (refused.length > 0) {
        const problems = refused.map((a) => ({ account: a.appid, errcode: a.tokens.lastError?.errcode, problem: a.tokens.lastError?.fix ?? a.tokens.lastError?.message }));
        detail.wechat = single ? problems[0] : problems;
        if (refused.length === own.length) ready = false;
      }
      if (platform) detail.platform = await platform.health().catch((err: Error) => `unknown: ${err.message}`);
      // the quota pause lives in the store too: no point waiting for it when the store is away
      if (detail.store === 'ok') {
        const paused = await Promise.all(
          own.map(async (a) => ({ account: a.appId, until: await accounts.runtime(a.appId).delivery.quota.pausedUntil().catch(() => null) })),
        );
        const quotaText = (until: number) => `exhausted (45009): template sends paused until ${new Date(until).toISOString()}, notifications use the fallback`;
        const pausedOnes = paused.filter((p) => p.until);
        if (pausedOnes.length > 0) {
          detail.templateQuota = single ? quotaText(pausedOnes[0].until as number) : pausedOnes.map((p) => ({ account: p.account, problem: quotaText(p.until as number) }));
        }
      }
      return { ready, detail };
    },
  });

  const ownAppids = own.map((a) => a.appId);
  // `call` for each of these accounts, a few at once: one that fails is logged and the others go on.
  const eachAccount = (appids: readonly string[], call: (a: Account) => Promise<unknown>, failed: string) =>
    eachLimited(appids, SYNC_CONCURRENCY, (appid) => call(accounts.runtime(appid)).catch((err) => log.warn(failed, { account: appid, err })));
  // The accounts that may act now; the own ones when the store cannot tell.
  const activeOrOwn = () => accounts.activeAppids().catch(() => ownAppids);
  const syncEach = (appids: readonly string[]) => eachAccount(appids, (a) => a.delivery.templates.sync(), 'template list sync failed; keeping what is known');
  const syncAll = async () => syncEach(await activeOrOwn());
  // Own accounts are synced before the service listens, as one account always was; a platform's
  // merchants (there may be thousands, each known from earlier syncs) are synced meanwhile.
  await syncEach(ownAppids);
  if (platform) void accounts.activeAppids().then((appids) => syncEach(appids.filter((a) => !ownAppids.includes(a)))).catch(() => undefined);
  const syncTimer = setInterval(() => void syncAll(), config.templateSync.intervalSeconds * 1000);
  syncTimer.unref();
  // Each active account's template quota, for GET /v1/accounts (one instance asks per period).
  const pollQuotas = async () => eachAccount(await activeOrOwn(), (a) => a.delivery.quota.poll(config.stats.quotaPollSeconds), 'template quota not read');
  void pollQuotas();
  const quotaTimer = setInterval(() => void pollQuotas(), config.stats.quotaPollSeconds * 1000);
  quotaTimer.unref();
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
  // The endpoints read before the first move, which records its event only when one may want it
  // (until a read succeeds, every move records its event).
  await webhooks.registry.all().catch(() => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  loop.start();
  // Every instance reads the intake stream (a Redis store only).
  const streamIntake =
    store.streams &&
    new StreamIntake(
      store.streams.group(config.intake.stream, STREAM_GROUP),
      new NotificationIntake(accounts).acceptFromStream,
      { pollMs: config.worker.pollMs, claimIdleMs: config.intake.claimIdleMs, maxEntryBytes: BODY_LIMIT_BYTES },
      log,
      () => loop.poke(),
    );
  streamIntake?.start();
  webhooks.start();
  callbackStats.start();
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1'}:${port}`;
  log.info('wxreach listening', { url, accounts: own.map((a) => a.appId), platform: config.component?.appId ?? null });

  return {
    url,
    server,
    accounts,
    account(appid) {
      const a = appid === undefined ? single : accounts.runtime(appid);
      if (!a) throw new Error('no single account: name one');
      return a;
    },
    loop,
    async stop(deadlineMs = STOP_DEADLINE_MS) {
      const deadline = Date.now() + deadlineMs;
      const left = () => Math.max(0, deadline - Date.now());
      clearInterval(syncTimer);
      clearInterval(replayTimer);
      clearInterval(quotaTimer);
      stopping = true;
      unanswered.forEach(endConnectionAfter);
      // No new connections; idle keep-alive ones are closed now, busy ones after their answer.
      const drained = new Promise<boolean>((resolve) => server.close(() => resolve(true)));
      const streamStopped = streamIntake?.stop();
      if (!(await within(drained, Math.min(DRAIN_MS, left()), () => false))) {
        log.warn('requests still in flight at the stop deadline; closing their connections');
      }
      await within(streamStopped ?? Promise.resolve(), left(), () => log.warn('stream entries still in hand at the stop deadline; another instance takes them over'));
      if (!(await within(loop.stop().then(() => true), left(), () => false))) {
        log.warn('notices still in hand at the stop deadline; they are taken again when their lease runs out');
      }
      if (!(await within(webhooks.stop().then(() => true), left(), () => false))) {
        log.warn('webhook attempts still in flight at the stop deadline; they are attempted again when their lease runs out');
      }
      server.closeAllConnections();
      await callbackStats.stop();
      await platform?.close();
      await http.close();
      await forwarder?.close();
    },
  };
}
