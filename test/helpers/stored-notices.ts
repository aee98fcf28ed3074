import { createClient } from 'redis';
import { decodeRecord } from '../../src/store/redis-record-codec';

const plainClient = (url: string) => createClient({ url });

export type TestRedisClient = ReturnType<typeof plainClient>;

/** A plain client of the test Redis (or of `url`), for what a business system or an operator does beside wxreach. */
export async function testRedisClient(url = process.env.TEST_REDIS_URL): Promise<TestRedisClient> {
  if (!url) throw new Error('TEST_REDIS_URL is not set: run the tests with `npm test`, which starts a redis-server');
  const client = plainClient(url);
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

export interface StoredNotice {
  id: string;
  /** The API client (owner) it was recorded for. */
  client: string;
  openid: string;
  template: string;
  data: Record<string, { value: string }>;
}

/** Every notification record under key prefix `prefix`, read straight from Redis (what was stored, however it got there). */
export async function storedNotices(redis: TestRedisClient, prefix: string): Promise<StoredNotice[]> {
  const keys: string[] = [];
  for await (const batch of redis.scanIterator({ MATCH: `{${prefix}:*}:rec:*`, COUNT: 1000 })) keys.push(...batch);
  return Promise.all(
    keys.map(async (key) => {
      const f = decodeRecord(Object.entries(await redis.hGetAll(key)).flat(), [])!.fields;
      return { id: key.slice(key.indexOf(':rec:') + 5), client: f.client, openid: f.openid, template: f.template, data: JSON.parse(f.data) as StoredNotice['data'] };
    }),
  );
}

/** How many records hold each order number (`data.order_no`). */
export function countByOrder(notices: readonly StoredNotice[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of notices) counts[n.data.order_no.value] = (counts[n.data.order_no.value] ?? 0) + 1;
  return counts;
}

/** Polls `check` every 20 ms until it is true; fails with `what` after `timeoutMs`. */
export async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting ${timeoutMs} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
