import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { request, type Agent } from 'undici';
import type { Config } from '../../src/config/schema';
import type { EmulatorHandle } from '../../src/emulator';
import { createLogger, type Logger } from '../../src/log/logger';
import type { Service } from '../../src/service';
import { emulateStack, startStack, wirePushes, type StackTemplate } from '../../src/stack';
import { connectStore } from '../../src/store/connect-store';
import type { Store } from '../../src/store/store';
import { type ChildServer, forkServer, stopServer } from './child-server';
import { keepAliveAgent } from './pool';
import { connectRedisStats, type RedisStats } from './redis-stats';
import { launchThrowawayRedis, type RedisKind } from './throwaway-redis';

export const BENCH_APP = { appId: 'wx0b1e2n3c4h5a6p7p', appSecret: 'bench-app-secret-0001', token: 'benchtoken' };
export const BENCH_AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
export const BENCH_API_KEY = 'bench-api-key-0123456789';

/** Two templates with sentence patterns: `order_paid` stays, `order_shipped` is the one a fallback run deletes. */
export const BENCH_TEMPLATES = {
  order_paid: {
    id: 'TPL_BENCH_ORDER_PAID_00001',
    title: '订单支付成功',
    content: '{{first.DATA}}\n订单：{{order_no.DATA}}\n金额：{{amount.DATA}}\n{{remark.DATA}}',
    fallback: 'Your order {{order_no}} is paid: {{amount}}. {{url}}',
  },
  order_shipped: {
    id: 'TPL_BENCH_ORDER_SHIPPED_001',
    title: '订单发货通知',
    content: '{{first.DATA}}\n订单：{{order_no.DATA}}\n快递：{{carrier.DATA}}\n{{remark.DATA}}',
    fallback: 'Your order {{order_no}} has shipped with {{carrier}}. {{url}}',
  },
} as const satisfies Record<string, StackTemplate>;

export interface BenchStackOptions {
  /** Followers seeded in the emulator, in every account: `openid(i)` for i in [0, users). */
  users: number;
  /** Emulator's delay before each TEMPLATESENDJOBFINISH (ms). */
  receiptDelayMs: number;
  /** Safe mode (AES) pushes instead of plaintext. */
  aes?: boolean;
  /** Connections of the bench client to the service. */
  clientConcurrency: number;
  /** Own accounts in the service's config, all played by the emulator (default 1): see BenchStack.appids. */
  accounts?: number;
  /** Where the store lives (default one redis-server). */
  redis?: RedisKind;
  /** Last word on the service config (worker settings etc.). */
  config?: (c: Config) => Config;
  /** The service's logger (default: level warn, the lines kept for `logLines`). */
  log?: Logger;
}

/**
 * A stack whose service runs in a child process of its own (bench/service-child.ts), as deployed,
 * while the bench's client and the emulator stay in this process; its log is the default one.
 */
export interface ChildServiceOptions extends Omit<BenchStackOptions, 'log'> {
  service: 'child';
  /** Where the service's CPU profile goes (see ChildServiceStack.serviceProcess). */
  profileDir?: string;
  /** false: the service's work loop is stopped once it runs, so that nothing is sent (intake alone is measured). Default true. */
  workLoop?: boolean;
}

/** What a stack hands its child service (bench/service-child.ts): the service's config, and whether its work loop runs. */
export interface ServiceChildOptions {
  config: Config;
  workLoop: boolean;
}

/** The service's API as a client with a keep-alive pool of its own. */
export interface ApiClient {
  /** POST /v1/notifications; returns the new id (throws on anything but 202). */
  enqueue(body: unknown): Promise<string>;
  /** GET /v1/notifications/:id as JSON. */
  get(id: string): Promise<{ status: string; history: { at: string; status: string; detail: string }[] }>;
}

/** What a bench reads of its stack, wherever the service runs. */
export interface BenchStackBase extends ApiClient {
  redis: RedisStats;
  /** `redis://…` of every server (each master of a cluster). */
  redisUrls: readonly string[];
  /** "one redis-server" / "a local 3-master Redis Cluster". */
  redisDescription: string;
  emulator: EmulatorHandle;
  /** The service's base URL (its pushes come from the emulator to `<serviceUrl>/wechat…`). */
  serviceUrl: string;
  /** The service's store (in a child's stack: a connection of this process to the same keys). */
  store: Store;
  config: Config;
  /** The accounts' appids, BENCH_APP's first. */
  appids: string[];
  openid(i: number): string;
  /** Another client of the API, on `connections` connections of its own (another business's client). */
  apiClient(connections: number): ApiClient;
  /** warn/error lines the service logged (a child service logs as deployed, an in-process one at warn only). */
  logLines(): string[];
  close(): Promise<void>;
}

/** A stack with the service in this process. */
export interface BenchStack extends BenchStackBase {
  service: Service;
}

/** A stack with the service in a child process. */
export interface ChildServiceStack extends BenchStackBase {
  /** The service's process: ask it for its CPU time (`usageOf`) and, given a profileDir, to profile itself. */
  serviceProcess: ChildServer;
}

/** The openid of the bench's `i`-th follower (the ones the emulator is seeded with). */
export const benchOpenid = (i: number): string => `oBENCH_user_${String(i).padStart(6, '0')}`;

/** The `k`-th account's appid: BENCH_APP's, then `wxbench00000000001`… */
const appidOf = (k: number): string => (k === 0 ? BENCH_APP.appId : `wxbench${String(k).padStart(11, '0')}`);

/** The bench's service logger: level warn, each line handed to `keep`. */
export const warnLogger = (keep: (line: string) => void): Logger =>
  createLogger({
    level: 'warn',
    stream: new Writable({
      write(chunk, _encoding, cb) {
        keep(String(chunk).trim());
        cb();
      },
    }),
  });

/** The key prefix of the bench service's store. */
const PREFIX = 'bench';

/**
 * A throwaway Redis (one server or a local cluster) + in-process emulator playing the accounts
 * (receipts on) + one wxreach service on a RedisStore: in this process, or with `service: 'child'`
 * in a child process of its own.
 */
export function startBenchStack(options: ChildServiceOptions): Promise<ChildServiceStack>;
export function startBenchStack(options: BenchStackOptions): Promise<BenchStack>;
export async function startBenchStack(options: BenchStackOptions | ChildServiceOptions): Promise<BenchStack | ChildServiceStack> {
  const { accounts = 1 } = options;
  const users = Array.from({ length: options.users }, (_, i) => benchOpenid(i));
  const aesKey = options.aes ? BENCH_AES_KEY : undefined;
  const appids = Array.from({ length: accounts }, (_, k) => appidOf(k));

  // Torn down in reverse order, also when a later step fails.
  const started: (() => Promise<unknown>)[] = [];
  const tearDown = async () => {
    for (const stop of started.reverse()) await stop();
  };
  try {
    const redisServers = await launchThrowawayRedis(options.redis ?? 'single');
    started.push(() => redisServers.stop());
    const redis = await connectRedisStats(redisServers.urls);
    started.push(() => redis.close());
    const journalDir = mkdtempSync(path.join(tmpdir(), 'wxreach-bench-'));
    started.push(async () => rmSync(journalDir, { recursive: true, force: true }));
    // startStack connects to one Redis only: the store is connected here, from the same settings
    // main takes (REDIS_URL or REDIS_CLUSTER_NODES), and given to an in-process service in place of
    // its own; a child's service connects its own from the same settings, this one reads for the bench.
    const store = await connectStore({ ...redisServers.store, prefix: PREFIX });
    started.push(() => store.close());
    const stackOptions = {
      account: { ...BENCH_APP, aesKey },
      templates: BENCH_TEMPLATES,
      users,
      more: appids.slice(1).map((appId, k) => ({
        account: { appId, appSecret: `bench-app-secret-${String(k + 2).padStart(4, '0')}`, token: BENCH_APP.token, aesKey },
        templates: BENCH_TEMPLATES,
        users,
        dailyTemplateQuota: 1e9,
      })),
      emulator: { receiptDelayMs: options.receiptDelayMs, dailyTemplateQuota: 1e9 },
      apiKeys: [BENCH_API_KEY],
      config: (c: Config) => {
        const withJournal = { ...c, pushJournal: { file: path.join(journalDir, 'push-journal.jsonl') } };
        return options.config ? options.config(withJournal) : withJournal;
      },
    } satisfies Parameters<typeof emulateStack>[0];
    // Once the service runs: what every stack has (its API clients are the first thing torn down).
    const parts = (emulator: EmulatorHandle, serviceUrl: string, config: Config, logLines: () => string[]): BenchStackBase => {
      const clients: Agent[] = [];
      started.push(() => Promise.all(clients.map((agent) => agent.close())));
      const apiClient = (connections: number): ApiClient => {
        const agent = keepAliveAgent(connections);
        clients.push(agent);
        return serviceApi(serviceUrl, agent);
      };
      return {
        ...apiClient(options.clientConcurrency),
        redis,
        redisUrls: redisServers.urls,
        redisDescription: redisServers.description,
        emulator,
        serviceUrl,
        store,
        config,
        appids,
        openid: benchOpenid,
        apiClient,
        logLines,
        close: tearDown,
      };
    };

    if ('service' in options && options.service === 'child') {
      const { emulator, config: emulated } = await emulateStack(stackOptions);
      started.push(() => emulator.close());
      // The child connects its store as main does, from the config: the same Redis and prefix as this process's.
      const config: Config = { ...emulated, redisUrl: redisServers.store.redisUrl ?? null, redisClusterNodes: redisServers.store.redisClusterNodes ? [...redisServers.store.redisClusterNodes] : null, redisPrefix: PREFIX };
      const childOptions: ServiceChildOptions = { config, workLoop: options.workLoop ?? true };
      const child = await forkServer(path.join(__dirname, '..', 'service-child.js'), childOptions, options.profileDir, 'wxreach service');
      started.push(() => stopServer(child));
      wirePushes(emulator, child.url);
      return { ...parts(emulator, child.url, config, child.logLines), serviceProcess: child };
    }

    const lines: string[] = [];
    const log =
      ('log' in options && options.log) ||
      warnLogger((line) => {
        if (lines.length < 1000) lines.push(line);
      });
    const stack = await startStack({ ...stackOptions, store: 'memory', wrapStore: () => store, log });
    started.push(() => stack.close());
    return { ...parts(stack.emulator, stack.service.url, stack.config, () => lines), service: stack.service };
  } catch (err) {
    await tearDown();
    throw err;
  }
}

function serviceApi(url: string, agent: Agent): ApiClient {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_API_KEY}` };
  return {
    async enqueue(body) {
      const res = await request(`${url}/v1/notifications`, { method: 'POST', body: JSON.stringify(body), headers, dispatcher: agent });
      const text = await res.body.text();
      if (res.statusCode !== 202) throw new Error(`POST /v1/notifications answered ${res.statusCode}: ${text}`);
      return (JSON.parse(text) as { id: string }).id;
    },
    async get(id) {
      const res = await request(`${url}/v1/notifications/${id}`, { headers, dispatcher: agent });
      if (res.statusCode !== 200) throw new Error(`GET /v1/notifications/${id} answered ${res.statusCode}: ${await res.body.text()}`);
      return (await res.body.json()) as Awaited<ReturnType<ApiClient['get']>>;
    },
  };
}

/**
 * A typical notification body for `template` to user `openid`: the fields of that template, plus a
 * URL; for `account` when given (needed when the stack has several).
 */
export function notificationBody(template: keyof typeof BENCH_TEMPLATES, openid: string, i: number, account?: string): Record<string, unknown> {
  const order_no = `A${String(i).padStart(10, '0')}`;
  const detail = template === 'order_paid' ? { amount: '¥128.00' } : { carrier: '顺丰速运 SF1234567890' };
  return {
    ...(account && { account }),
    openid,
    template,
    data: { first: '您好，您的订单有新进展', order_no, ...detail, remark: '感谢您的惠顾' },
    url: `https://shop.example.com/orders/${order_no}`,
  };
}

/** "service warn/error log lines: N; first: …": what the service logged at warn or above during the bench. */
export function describeLogLines(stack: Pick<BenchStack, 'logLines'>): string {
  const lines = stack.logLines();
  return `service warn/error log lines: ${lines.length}${lines.length ? `; first: ${lines[0].slice(0, 300)}` : ''}`;
}

/** Emulator calls per path over every account, control routes left out, as one line. */
export function describeCalls(stack: BenchStackBase): string {
  const calls: Record<string, number> = {};
  const callbacks = { attempts: 0, delivered: 0, failed: 0 };
  for (const appid of stack.appids) {
    const stats = stack.emulator.control.account(appid).stats();
    for (const [p, n] of Object.entries(stats.calls)) calls[p] = (calls[p] ?? 0) + n;
    for (const k of ['attempts', 'delivered', 'failed'] as const) callbacks[k] += stats.callbacks[k];
  }
  const wx = Object.entries(calls)
    .filter(([p]) => !p.startsWith('/_emulator'))
    .map(([p, n]) => `${p} ${n}`)
    .join(', ');
  return `emulator calls: ${wx}; callbacks: ${callbacks.attempts} attempts, ${callbacks.delivered} acknowledged, ${callbacks.failed} failed`;
}
