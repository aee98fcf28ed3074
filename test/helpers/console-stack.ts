import { randomBytes } from 'node:crypto';
import type { Config } from '../../src/config/schema';
import { DEMO_TEMPLATES } from '../../src/demo';
import { enqueueOutcomeMix, type OutcomeMix } from '../../src/demo-outcomes';
import { startReceiver, testSecret, type Receiver } from '../outbound/receiver';
import { SECOND } from './accounts';
import { API_KEY, APP, USER, startHarness, type Harness } from './harness';
import { storedNotices, testRedisClient } from './stored-notices';

/** A key limited to the second account. */
export const LIMITED_KEY = 'console-limited-key-0123456789';

export interface ConsoleStack {
  h: Harness;
  /** The config's webhook endpoint: answers 500 until a test says otherwise. */
  receiver: Receiver;
  /** One notice of each outcome in APP (the API key's), each at its final (or parked) status. */
  mix: OutcomeMix;
  /** Notices that came through the Redis Stream intake (every key of their account reads them), one per account. */
  streamed: { app: string; second: string };
  close(): Promise<void>;
}

/** GET with the full key, as a business system would. */
export async function apiGet(h: Harness, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${h.service.url}${path}`, { headers: { authorization: `Bearer ${API_KEY}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await check();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * The console's test world: APP with the demo's templates (`order_shipped` gone on the WeChat
 * side) and the demo's mix of outcomes, SECOND beside it, a key limited to SECOND, a failing
 * webhook receiver, and one stream notice per account. `config` adds to the service config.
 */
export async function startConsoleStack(config: (c: Config) => Config = (c) => c, options: { now?: () => number } = {}): Promise<ConsoleStack> {
  const receiver = await startReceiver(testSecret(), () => 500);
  const prefix = `tcon${randomBytes(4).toString('hex')}`;
  const h = await startHarness({
    templates: { ...DEMO_TEMPLATES, order_shipped: { ...DEMO_TEMPLATES.order_shipped, deletedAtWechat: true } },
    more: [SECOND],
    extraApiKeys: [`${LIMITED_KEY}=${SECOND.account.appId}`],
    redisPrefix: prefix,
    now: options.now,
    config: (c) =>
      config({
        ...c,
        receipt: { ...c.receipt, timeoutSeconds: 2 },
        webhooks: { allowPrivate: true, endpoints: [{ url: receiver.url, secret: receiver.secret }] },
      }),
  });
  const mix = await enqueueOutcomeMix({ url: h.service.url, apiKey: API_KEY, account: APP.appId }, h.emulator.control);
  const final = { delivered: 'delivered', userBlock: 'fallback_sent', noReceipt: 'fallback_sent', parked: 'awaiting_interaction', passiveReply: 'fallback_sent', failed: 'failed' } as const;
  await Promise.all(Object.entries(final).map(([outcome, status]) => h.waitFor(mix[outcome as keyof OutcomeMix], status, 10_000)));

  // What a business system appending to the stream does (XADD <prefix>:intake * notification <json>).
  const redis = await testRedisClient();
  try {
    for (const [order, account] of [['S-app', APP.appId], ['S-second', SECOND.account.appId]]) {
      await redis.xAdd(`${prefix}:intake`, '*', { notification: JSON.stringify({ account, openid: USER, template: 'order_paid', data: { order_no: order, amount: '1.00' } }) });
    }
    // the stream's notices have no API answer to read their ids from: they are found in the store
    const streamedOrder = async (order: string) =>
      until(`the stream notice ${order}`, async () => (await storedNotices(redis, prefix)).find((n) => n.client === 'stream' && n.data.order_no.value === order)?.id);
    const streamed = { app: await streamedOrder('S-app'), second: await streamedOrder('S-second') };
    return {
      h,
      receiver,
      mix,
      streamed,
      async close() {
        await h.close();
        await receiver.close();
      },
    };
  } finally {
    await redis.quit();
  }
}
