import { Writable } from 'node:stream';
import { request, type Agent } from 'undici';
import { loadConfig } from '../../src/config/load';
import type { Config } from '../../src/config/schema';
import { startEmulator, type EmulatorHandle } from '../../src/emulator';
import { createLogger } from '../../src/log/logger';
import { startService, type Service } from '../../src/service';
import { RedisStore } from '../../src/store/redis-store';
import { keepAliveAgent } from './pool';
import { startRedisServer, type ThrowawayRedis } from './redis-server';

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
} as const;

export interface StackOptions {
  /** Followers seeded in the emulator: `openid(i)` for i in [0, users). */
  users: number;
  /** Emulator's delay before each TEMPLATESENDJOBFINISH (ms). */
  receiptDelayMs: number;
  /** Safe mode (AES) pushes instead of plaintext. */
  aes?: boolean;
  /** Connections of the bench client to the service. */
  clientConcurrency: number;
  /** Last word on the service config (worker settings etc.). */
  config?: (c: Config) => Config;
}

export interface Stack {
  redis: ThrowawayRedis;
  emulator: EmulatorHandle;
  service: Service;
  store: RedisStore;
  config: Config;
  openid(i: number): string;
  /** POST /v1/notifications; returns the new id (throws on anything but 202). */
  enqueue(body: unknown): Promise<string>;
  /** GET /v1/notifications/:id as JSON. */
  get(id: string): Promise<{ status: string; history: { at: string; status: string; detail: string }[] }>;
  /** warn/error lines the service logged (the bench runs it at level warn). */
  logLines(): string[];
  close(): Promise<void>;
}

/** Throwaway redis-server + in-process emulator (receipts on) + one in-process wxreach service on a RedisStore. */
export async function startStack(options: StackOptions): Promise<Stack> {
  const redis = await startRedisServer();
  const openid = (i: number) => `oBENCH_user_${String(i).padStart(6, '0')}`;
  const emulator = await startEmulator({
    ...BENCH_APP,
    aesKey: options.aes ? BENCH_AES_KEY : undefined,
    receiptDelayMs: options.receiptDelayMs,
    dailyTemplateQuota: 1e9,
    seed: {
      users: Array.from({ length: options.users }, (_, i) => ({ openid: openid(i), subscribed: true })),
      templates: Object.values(BENCH_TEMPLATES).map((t) => ({ template_id: t.id, title: t.title, content: t.content })),
    },
  });
  const base = loadConfig({});
  let config: Config = {
    ...base,
    port: 0,
    apiKeys: [BENCH_API_KEY],
    logLevel: 'warn',
    wechat: { ...base.wechat, ...BENCH_APP, aesKey: options.aes ? BENCH_AES_KEY : null, apiBase: emulator.url },
    templates: Object.fromEntries(Object.entries(BENCH_TEMPLATES).map(([name, t]) => [name, { id: t.id, fallback: t.fallback }])),
  };
  if (options.config) config = options.config(config);
  const store = await RedisStore.connect({ url: redis.url, prefix: 'bench' });
  const lines: string[] = [];
  const log = createLogger({
    level: config.logLevel,
    stream: new Writable({
      write(chunk, _encoding, cb) {
        if (lines.length < 1000) lines.push(String(chunk).trim());
        cb();
      },
    }),
  });
  const service = await startService({ config, store, log });
  emulator.control.setCallbackUrl(`${service.url}/wechat`);

  const agent: Agent = keepAliveAgent(options.clientConcurrency);
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_API_KEY}` };
  return {
    redis,
    emulator,
    service,
    store,
    config,
    openid,
    async enqueue(body) {
      const res = await request(`${service.url}/v1/notifications`, { method: 'POST', body: JSON.stringify(body), headers, dispatcher: agent });
      const text = await res.body.text();
      if (res.statusCode !== 202) throw new Error(`POST /v1/notifications answered ${res.statusCode}: ${text}`);
      return (JSON.parse(text) as { id: string }).id;
    },
    async get(id) {
      const res = await request(`${service.url}/v1/notifications/${id}`, { headers, dispatcher: agent });
      if (res.statusCode !== 200) throw new Error(`GET /v1/notifications/${id} answered ${res.statusCode}: ${await res.body.text()}`);
      return (await res.body.json()) as Awaited<ReturnType<Stack['get']>>;
    },
    logLines: () => lines,
    async close() {
      await agent.close();
      await service.stop();
      await emulator.close();
      await store.close();
      await redis.stop();
    },
  };
}

/** A typical notification body for `template` to user `openid`: the fields of that template, plus a URL. */
export function notificationBody(template: keyof typeof BENCH_TEMPLATES, openid: string, i: number): Record<string, unknown> {
  const order_no = `A${String(i).padStart(10, '0')}`;
  const detail = template === 'order_paid' ? { amount: '¥128.00' } : { carrier: '顺丰速运 SF1234567890' };
  return {
    openid,
    template,
    data: { first: '您好，您的订单有新进展', order_no, ...detail, remark: '感谢您的惠顾' },
    url: `https://shop.example.com/orders/${order_no}`,
  };
}

/** Emulator calls per path, control routes left out, as one line. */
export function describeCalls(stack: Stack): string {
  const { calls, callbacks } = stack.emulator.control.stats();
  const wx = Object.entries(calls)
    .filter(([p]) => !p.startsWith('/_emulator'))
    .map(([p, n]) => `${p} ${n}`)
    .join(', ');
  return `emulator calls: ${wx}; callbacks: ${callbacks.attempts} attempts, ${callbacks.delivered} acknowledged, ${callbacks.failed} failed`;
}
