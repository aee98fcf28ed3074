import { capturedLogger } from './logs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load';
import type { Config } from '../../src/config/schema';
import type { Status } from '../../src/delivery/lifecycle';
import { startEmulator, type EmulatorHandle, type EmulatorOptions } from '../../src/emulator';
import { startService, type Service } from '../../src/service';
import { MemoryStore } from '../../src/store/memory-store';
import { RedisStore } from '../../src/store/redis-store';
import type { Store } from '../../src/store/store';

export const APP = { appId: 'wx5a7b9c1d3e5f7a9b', appSecret: 'harness-app-secret-42', token: 'harnesstoken' };
export const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
export const API_KEY = 'test-api-key-0123456789';
export const USER = 'oUSER_harness_0001';

/** Templates of the test account: order_paid has a pattern, seat_ready falls back to its content. */
export const TEMPLATES = {
  order_paid: { id: 'TPL_ORDER_PAID_000000001', title: 'Order paid', content: 'Order: {{order_no.DATA}}\nAmount: {{amount.DATA}}', shortId: 'TM00015' },
  seat_ready: { id: 'TPL_SEAT_READY_000000001', title: '取票提醒', content: '{{first.DATA}}\n影片：{{movie.DATA}}\n座位：{{seat.DATA}}\n{{remark.DATA}}' },
};

export interface Harness {
  emulator: EmulatorHandle;
  service: Service;
  store: Store;
  config: Config;
  logs: () => string;
  /** POST /v1/notifications with the test key; returns status and body. */
  enqueue(body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }>;
  get(id: string): Promise<Record<string, unknown>>;
  /** Polls GET /v1/notifications/:id until its status is `status` (or one of them). */
  waitFor(id: string, status: Status | Status[], timeoutMs?: number): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  emulator?: EmulatorOptions;
  /** Deep-ish overrides of the service config. */
  config?: (c: Config) => Config;
  /** Use the in-memory store instead of the test redis-server. */
  memory?: boolean;
  now?: () => number;
}

export async function connectTestRedis(prefix = `t${randomBytes(4).toString('hex')}`): Promise<RedisStore> {
  const url = process.env.TEST_REDIS_URL;
  if (!url) throw new Error('TEST_REDIS_URL is not set: run the tests with `npm test`, which starts a redis-server');
  return RedisStore.connect({ url, prefix });
}

/** The emulator, a real wxreach service (HTTP server + work loop) and a real Redis, wired together. */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const emulator = await startEmulator({
    appId: APP.appId,
    appSecret: APP.appSecret,
    token: APP.token,
    receiptDelayMs: 20,
    seed: {
      users: [{ openid: USER, subscribed: true }],
      templates: Object.values(TEMPLATES).map((t) => ({ template_id: t.id, title: t.title, content: t.content, short_id: 'shortId' in t ? t.shortId : undefined })),
    },
    ...options.emulator,
  });
  const base = loadConfig({});
  let config: Config = {
    ...base,
    port: 0,
    apiKeys: [API_KEY],
    wechat: { ...base.wechat, ...APP, aesKey: options.emulator?.aesKey ?? null, apiBase: emulator.url, timeoutMs: 2000 },
    templates: {
      order_paid: { id: TEMPLATES.order_paid.id, fallback: 'Your order {{order_no}} is paid: {{amount}}. {{url}}' },
      seat_ready: { id: TEMPLATES.seat_ready.id },
    },
    retry: { maxAttempts: 3, baseDelayMs: 20 },
    worker: { ...base.worker, pollMs: 10 },
    pushJournal: { file: path.join(os.tmpdir(), `wxreach-test-journal-${randomBytes(6).toString('hex')}.jsonl`) },
  };
  if (options.config) config = options.config(config);
  const store: Store = options.memory ? new MemoryStore() : await connectTestRedis();
  const { log, text: logs } = capturedLogger();
  const service = await startService({ config, store, log, now: options.now });
  emulator.control.setCallbackUrl(`${service.url}/wechat`);

  const h: Harness = {
    emulator,
    service,
    store,
    config,
    logs,
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
      const wanted = Array.isArray(status) ? status : [status];
      const deadline = Date.now() + timeoutMs;
      let last: Record<string, unknown> = {};
      while (Date.now() < deadline) {
        last = await h.get(id);
        if (wanted.includes(last.status as Status)) return last;
        await new Promise((r) => setTimeout(r, 15));
      }
      throw new Error(`notification ${id} did not reach ${wanted.join('|')}; it is ${JSON.stringify(last, null, 1)}`);
    },
    async close() {
      await service.stop();
      await emulator.close();
      await store.close();
    },
  };
  return h;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
