import { capturedLogger } from './logs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../../src/config/schema';
import type { Status } from '../../src/delivery/lifecycle';
import type { Logger } from '../../src/log/logger';
import { startEmulator, type EmulatorHandle, type EmulatorOptions } from '../../src/emulator';
import type { Service } from '../../src/service';
import { startStack, type StackOptions, type StackTemplate } from '../../src/stack';
import { RedisStore } from '../../src/store/redis-store';
import type { Store } from '../../src/store/store';

export const APP = { appId: 'wx5a7b9c1d3e5f7a9b', appSecret: 'harness-app-secret-42', token: 'harnesstoken' };
export const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
export const API_KEY = 'test-api-key-0123456789';
export const USER = 'oUSER_harness_0001';

/** Templates of the test account: order_paid has a pattern, seat_ready falls back to its content. */
export const TEMPLATES = {
  order_paid: {
    id: 'TPL_ORDER_PAID_000000001',
    title: 'Order paid',
    content: 'Order: {{order_no.DATA}}\nAmount: {{amount.DATA}}',
    shortId: 'TM00015',
    fallback: 'Your order {{order_no}} is paid: {{amount}}. {{url}}',
  },
  seat_ready: { id: 'TPL_SEAT_READY_000000001', title: '取票提醒', content: '{{first.DATA}}\n影片：{{movie.DATA}}\n座位：{{seat.DATA}}\n{{remark.DATA}}' },
} satisfies Record<string, StackTemplate>;

export interface Harness {
  emulator: EmulatorHandle;
  service: Service;
  store: Store;
  config: Config;
  logs: () => string;
  /** The service's logger (what it writes, `logs` reads). */
  log: Logger;
  /** POST /v1/notifications with the test key; returns status and body. */
  enqueue(body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }>;
  get(id: string): Promise<Record<string, unknown>>;
  /** Polls GET /v1/notifications/:id until its status is `status` (or one of them). */
  waitFor(id: string, status: Status | readonly Status[] | ReadonlySet<Status>, timeoutMs?: number): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  emulator?: EmulatorOptions;
  /** Deep-ish overrides of the service config. */
  config?: (c: Config) => Config;
  /** Use the in-memory store instead of the test redis-server. */
  memory?: boolean;
  now?: () => number;
  /** The account's templates; default TEMPLATES. */
  templates?: Record<string, StackTemplate>;
  /** Key prefix in the test Redis (default: a fresh one); a second service with it works on the same notifications. */
  redisPrefix?: string;
  /** Wraps the store the service uses (fault injection); `store` stays the plain one. */
  wrapStore?: (store: Store) => Store;
  /** More own accounts, and a third-party platform with its merchants. */
  more?: StackOptions['more'];
  component?: StackOptions['component'];
  /** API keys beside API_KEY (e.g. `key=appid`, limited to accounts). */
  extraApiKeys?: string[];
}

export function testRedisUrl(): string {
  const url = process.env.TEST_REDIS_URL;
  if (!url) throw new Error('TEST_REDIS_URL is not set: run the tests with `npm test`, which starts a redis-server');
  return url;
}

const freshPrefix = () => `t${randomBytes(4).toString('hex')}`;

export async function connectTestRedis(prefix = freshPrefix()): Promise<RedisStore> {
  return RedisStore.connect({ url: testRedisUrl(), prefix });
}

/** The stack for tests: the test account in the emulator, a real wxreach service tuned to be quick, the test Redis. */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const { aesKey, ...emulatorOptions } = options.emulator ?? {};
  const { log, text: logs } = capturedLogger();
  const { emulator, service, store, config, close } = await startStack({
    account: { ...APP, aesKey },
    templates: options.templates ?? TEMPLATES,
    users: [USER],
    emulator: { receiptDelayMs: 20, ...emulatorOptions },
    more: options.more,
    component: options.component,
    apiKeys: [API_KEY, ...(options.extraApiKeys ?? [])],
    config: (c) => {
      const quick: Config = {
        ...c,
        wechat: { ...c.wechat, timeoutMs: 2000 },
        retry: { maxAttempts: 3, baseDelayMs: 20 },
        worker: { ...c.worker, pollMs: 10 },
        pushJournal: { file: path.join(os.tmpdir(), `wxreach-test-journal-${randomBytes(6).toString('hex')}.jsonl`) },
      };
      return options.config ? options.config(quick) : quick;
    },
    store: options.memory ? 'memory' : { redisUrl: testRedisUrl(), prefix: options.redisPrefix ?? freshPrefix() },
    wrapStore: options.wrapStore,
    log,
    now: options.now,
  });

  const h: Harness = {
    emulator,
    service,
    store,
    config,
    logs,
    log,
    async enqueue(body, headers = {}) {
      const res = await fetch(`${service.url}/v1/notifications`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}`, ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
    async get(id) {
      const res = await fetch(`${service.url}/v1/notifications/${id}`, { headers: { authorization: `Bearer ${API_KEY}` } });
      return (await res.json()) as Record<string, unknown>;
    },
    async waitFor(id, status, timeoutMs = 5000) {
      const wanted: ReadonlySet<Status> = typeof status === 'string' ? new Set([status]) : new Set(status);
      const deadline = Date.now() + timeoutMs;
      let last: Record<string, unknown> = {};
      while (Date.now() < deadline) {
        last = await h.get(id);
        if (wanted.has(last.status as Status)) return last;
        await new Promise((r) => setTimeout(r, 15));
      }
      throw new Error(`notification ${id} did not reach ${[...wanted].join('|')}; it is ${JSON.stringify(last, null, 1)}`);
    },
    close,
  };
  return h;
}

/** The emulator playing APP with USER and TEMPLATES, for tests that run wxreach as its own process. */
export function startAppEmulator(): Promise<EmulatorHandle> {
  return startEmulator({
    ...APP,
    receiptDelayMs: 20,
    seed: { users: [{ openid: USER }], templates: Object.values(TEMPLATES).map((t) => ({ template_id: t.id, title: t.title, content: t.content })) },
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
