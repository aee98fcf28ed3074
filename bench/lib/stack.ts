import { Writable } from 'node:stream';
import { request, type Agent } from 'undici';
import type { Config } from '../../src/config/schema';
import { RedisServer } from '../../src/dev/redis-server';
import type { EmulatorHandle } from '../../src/emulator';
import { createLogger } from '../../src/log/logger';
import type { Service } from '../../src/service';
import { startStack, type StackTemplate } from '../../src/stack';
import type { Store } from '../../src/store/store';
import { keepAliveAgent } from './pool';
import { connectRedisStats, type RedisStats } from './redis-stats';

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

export interface BenchStack {
  redis: RedisStats;
  emulator: EmulatorHandle;
  service: Service;
  store: Store;
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
export async function startBenchStack(options: BenchStackOptions): Promise<BenchStack> {
  // A bench whose Redis vanished would otherwise wait forever on queued commands.
  const server = await RedisServer.launch({
    onUnexpectedExit: (description) => {
      console.error(`${description}. Giving up.`);
      process.exit(1);
    },
  });
  const redis = await connectRedisStats(server.url);
  const openid = (i: number) => `oBENCH_user_${String(i).padStart(6, '0')}`;
  const lines: string[] = [];
  const log = createLogger({
    level: 'warn',
    stream: new Writable({
      write(chunk, _encoding, cb) {
        if (lines.length < 1000) lines.push(String(chunk).trim());
        cb();
      },
    }),
  });
  const { emulator, service, store, config, close } = await startStack({
    account: { ...BENCH_APP, aesKey: options.aes ? BENCH_AES_KEY : undefined },
    templates: BENCH_TEMPLATES,
    users: Array.from({ length: options.users }, (_, i) => openid(i)),
    emulator: { receiptDelayMs: options.receiptDelayMs, dailyTemplateQuota: 1e9 },
    apiKeys: [BENCH_API_KEY],
    config: options.config,
    store: { redisUrl: server.url, prefix: 'bench' },
    log,
  });

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
      return (await res.body.json()) as Awaited<ReturnType<BenchStack['get']>>;
    },
    logLines: () => lines,
    async close() {
      await agent.close();
      await close();
      await redis.close();
      await server.stop();
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
export function describeCalls(stack: BenchStack): string {
  const { calls, callbacks } = stack.emulator.control.stats();
  const wx = Object.entries(calls)
    .filter(([p]) => !p.startsWith('/_emulator'))
    .map(([p, n]) => `${p} ${n}`)
    .join(', ');
  return `emulator calls: ${wx}; callbacks: ${callbacks.attempts} attempts, ${callbacks.delivered} acknowledged, ${callbacks.failed} failed`;
}
