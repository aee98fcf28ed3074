import { createClient } from 'redis';
import { API_KEY, APP, startHarness, type Harness } from '../helpers/harness';
import { paid } from '../helpers/paid-notice';
import { startReceiver, testSecret, type Receiver } from '../outbound/receiver';

/**
 * A notice's move records its webhook event only when some endpoint may want it (its type and
 * account): with none, its notices write nothing to the outboxes. Counted in Redis itself: every
 * entry ever added to an outbox stream (`entries-added` stays when the fan-out deletes entries).
 */
describe('status webhooks: a move records its event only when an endpoint may want it', () => {
  const prefix = `tevw${Date.now().toString(36)}`;
  const redis = createClient({ url: process.env.TEST_REDIS_URL });
  let failedOnly: Receiver;
  let everything: Receiver;
  let h: Harness;

  beforeAll(async () => {
    await redis.connect();
    failedOnly = await startReceiver(testSecret());
    everything = await startReceiver(testSecret());
    h = await startHarness({
      redisPrefix: prefix,
      config: (c) => ({ ...c, webhooks: { allowPrivate: true, endpoints: [{ url: failedOnly.url, secret: failedOnly.secret, events: ['notification.failed'], accounts: [APP.appId] }] } }),
    });
  });
  afterAll(async () => {
    await h.close();
    await failedOnly.close();
    await everything.close();
    await redis.quit();
  });

  /** Entries ever added to the outboxes under this test's prefix. */
  async function eventsRecorded(): Promise<number> {
    let sum = 0;
    for await (const keys of redis.scanIterator({ MATCH: `*${prefix}*outbox`, COUNT: 1000 })) {
      for (const key of keys) sum += Number((await redis.xInfoStream(key))['entries-added']);
    }
    return sum;
  }

  it('records no event of a delivered notice that no endpoint wants, the failed one that an endpoint wants, and a delivered one once an endpoint for it is registered', async () => {
    const delivered = (await h.enqueue(paid(1))).body.id as string;
    await h.waitFor(delivered, 'delivered');
    expect(await eventsRecorded()).toBe(0);

    const failed = (await h.enqueue(paid(2, 'oNOT_A_FOLLOWER_0001'))).body.id as string;
    await h.waitFor(failed, 'failed');
    await failedOnly.until((rs) => rs.some((r) => r.payload?.data.id === failed), 5000, 'the failed notice at the failed-only endpoint');
    expect(await eventsRecorded()).toBe(1);

    // registered here: this instance asks the store again at once (another would within a second)
    const registered = await fetch(`${h.service.url}/v1/webhook-endpoints`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: everything.url }),
    });
    expect(registered.status).toBe(201);
    everything.verifyWith(((await registered.json()) as { secret: string }).secret);
    const later = (await h.enqueue(paid(3))).body.id as string;
    await h.waitFor(later, 'delivered');
    await everything.until((rs) => rs.some((r) => r.type === 'notification.delivered' && r.payload?.data.id === later), 5000, 'the later notice at the new endpoint');
    expect(await eventsRecorded()).toBe(2);
    expect(everything.requests.map((r) => r.payload?.data.id)).not.toContain(delivered);
    expect(failedOnly.requests.map((r) => r.type)).toEqual(['notification.failed']);
  });
});
