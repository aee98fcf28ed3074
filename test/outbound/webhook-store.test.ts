import { createClient } from 'redis';
import { RedisCluster } from '../../src/dev/redis-cluster';
import { MemoryStore } from '../../src/store/memory-store';
import { RedisStore } from '../../src/store/redis-store';
import type { HistoryEntry, Store } from '../../src/store/store';
import { deliveryId, type NewDelivery, type Settlement, type WebhookStore } from '../../src/store/webhook-store';
import { eventually } from '../helpers/eventually';

const APP = 'wxfeed0000000000001';
const entry = (status: string, detail = ''): HistoryEntry => ({ at: '2026-01-01T00:00:00.000Z', status, detail });
const DAY = 86_400;
const T0 = 1_800_000_000_000;

const url = process.env.TEST_REDIS_URL;
let count = 0;
const newPrefix = () => `wht-${process.pid}-${Date.now().toString(36)}-${count++}`;

interface Handle {
  store: Store;
  close(): Promise<void>;
}

/** What every store's webhook part does (each test gets a fresh store from `open`). */
function describeWebhookStore(name: string, open: () => Promise<Handle>): void {
  describe(`webhook store: ${name}`, () => {
    let handle: Handle;
    let store: Store;
    let hooks: WebhookStore;
    beforeEach(async () => {
      handle = await open();
      store = handle.store;
      hooks = store.webhooks;
    });
    afterEach(() => handle.close());

    const created = async (user = 'o1') => {
      const account = store.forAccount(APP);
      const id = account.newId(user);
      await account.create(id, { status: 'queued', openid: user, data: '{"big":"business data"}', client: 'c1' }, entry('queued', 'accepted'), { ttlSeconds: DAY });
      return { account, id };
    };

    it('keeps the event of a move with the fields and history the move left, in the same step; a refused move keeps none', async () => {
      const { account, id } = await created();
      const event = { type: 'notification.delivered', at: T0, fields: ['status', 'openid', 'client', 'msgid'] };
      await expect(account.move(id, { from: ['awaiting_receipt'], to: 'delivered', event })).resolves.toBe(false);
      expect(await hooks.claimOutbox(T0, 1000, 10, 10)).toEqual([]);
      expect(await account.move(id, { from: ['queued'], to: 'delivered', set: { reason: 'ok' }, history: entry('delivered', 'receipt: success'), event })).toBe(true);
      // the move did not wait for its hint to the outbox index; this instance's claim does
      const [batch, ...others] = await hooks.claimOutbox(T0, 1000, 10, 10);
      expect(others).toEqual([]);
      expect(batch.events).toEqual([
        {
          id: expect.stringMatching(/^evt_[0-9a-f]{28}$/),
          type: 'notification.delivered',
          at: T0,
          account: APP,
          subject: id,
          // only the fields asked for (msgid is absent, data was not asked for)
          record: { fields: { status: 'delivered', openid: 'o1', client: 'c1' }, history: [entry('queued', 'accepted'), entry('delivered', 'receipt: success')] },
          entry: expect.any(String),
        },
      ]);
      await hooks.ackOutbox(batch, T0);
      expect(await hooks.claimOutbox(T0 + 5000, 1000, 10, 10)).toEqual([]);
    });

    it('parks and releases with their events too, in order', async () => {
      const { account, id } = await created();
      await account.move(id, { from: ['queued'], to: 'fallback_pending' });
      await account.park(id, { from: ['fallback_pending'], to: 'awaiting_interaction', event: { type: 'notification.awaiting_interaction', at: T0, fields: ['status'] } }, { owner: 'o1', score: 1, ttlSeconds: DAY, until: Date.now() + 3_600_000 });
      await account.releaseAsReply(id, { from: ['awaiting_interaction'], to: 'fallback_sent', event: { type: 'notification.fallback_sent', at: T0 + 1, fields: ['status'] } }, 'o1', { pushKey: 'p', text: 't', ttlMs: 1000 });
      const [batch] = await hooks.claimOutbox(T0 + 1, 1000, 10, 10);
      expect(batch.events.map((e) => [e.type, e.record?.fields.status])).toEqual([
        ['notification.awaiting_interaction', 'awaiting_interaction'],
        ['notification.fallback_sent', 'fallback_sent'],
      ]);
    });

    it('leases an outbox: not handed out twice while leased, handed out again when its claimer never acknowledged', async () => {
      await hooks.appendEvent({ type: 'template.invalid', at: T0, account: APP, subject: 'TPL1', data: '{"templateId":"TPL1"}' });
      const [first] = await hooks.claimOutbox(T0, 1000, 10, 10);
      expect(first.events).toEqual([{ id: expect.stringMatching(/^evt_/), type: 'template.invalid', at: T0, account: APP, subject: 'TPL1', data: '{"templateId":"TPL1"}', entry: expect.any(String) }]);
      expect(await hooks.claimOutbox(T0 + 999, 1000, 10, 10)).toEqual([]);
      const [again] = await hooks.claimOutbox(T0 + 1000, 1000, 10, 10);
      expect(again.events.map((e) => e.id)).toEqual([first.events[0].id]);
      await hooks.ackOutbox(again, T0 + 1000);
      expect(await hooks.claimOutbox(T0 + 5000, 1000, 10, 10)).toEqual([]);
    });

    it('an event appended while its outbox is claimed is handed out after the acknowledgement', async () => {
      await hooks.appendEvent({ type: 'a', at: T0, account: null, subject: 's', data: '{}' });
      const [batch] = await hooks.claimOutbox(T0, 60_000, 10, 10);
      await hooks.appendEvent({ type: 'b', at: T0 + 1, account: null, subject: 's', data: '{}' });
      await hooks.ackOutbox(batch, T0 + 2);
      const [next] = await hooks.claimOutbox(T0 + 2, 60_000, 10, 10);
      expect(next.events.map((e) => e.type)).toEqual(['b']);
    });

    const delivery = (n: number, subject = 'n1', endpoint = 'ep_a'): NewDelivery => {
      const event = `evt_${(T0 + n).toString(16).padStart(12, '0')}${'0'.repeat(15)}${n}`;
      return { id: deliveryId(event, endpoint), endpoint, event, type: 'notification.delivered', account: APP, subject, body: `{"n":${n}}`, createdAt: T0 + n };
    };
    const failed = (at: number, retryAt: number | null, extra: Partial<Settlement> = {}): Settlement => ({
      attempt: { at, ms: 3, status: 500, error: 'HTTP 500' },
      succeeded: false,
      retryAt,
      failingLimitMs: 5 * DAY * 1000,
      ...extra,
    });
    const succeeded = (at: number): Settlement => ({ attempt: { at, ms: 2, status: 200 }, succeeded: true, retryAt: null, failingLimitMs: 5 * DAY * 1000 });
    const claimIds = async (now: number, endpoint = 'ep_a') => (await hooks.claimDeliveries(endpoint, now, 30_000, 10)).deliveries.map((d) => d.id);

    it('creates a delivery once, however often the fan-out runs', async () => {
      const d = delivery(1);
      expect(await hooks.createDelivery(d, DAY)).toBe(true);
      expect(await hooks.createDelivery(d, DAY)).toBe(false);
      const { deliveries } = await hooks.claimDeliveries('ep_a', T0 + 10, 30_000, 10);
      expect(deliveries).toEqual([{ ...d, state: 'pending', attempts: 0, dueAt: T0 + 10 + 30_000, inOrder: true, givenUp: false }]);
    });

    it('counts what is waiting: events not yet handed on, and the deliveries on an endpoint\'s schedule until settled', async () => {
      expect([await hooks.waitingEvents(), await hooks.scheduledDeliveries('ep_a')]).toEqual([0, 0]);
      const { account, id } = await created();
      await account.move(id, { from: ['queued'], to: 'failed', event: { type: 'notification.failed', at: T0, fields: ['status'] } });
      await hooks.appendEvent({ type: 'template.invalid', at: T0, account: APP, subject: 'TPL1', data: '{}' });
      expect(await hooks.waitingEvents()).toBe(2);
      for (const batch of await hooks.claimOutbox(T0, 1000, 10, 10)) await hooks.ackOutbox(batch, T0);
      expect(await hooks.waitingEvents()).toBe(0);
      const [a, b] = [delivery(1), delivery(2, 'n2')];
      for (const d of [a, b]) await hooks.createDelivery(d, DAY);
      expect(await hooks.scheduledDeliveries('ep_a')).toBe(2);
      await hooks.claimDeliveries('ep_a', T0 + 10, 30_000, 10);
      await hooks.settleDelivery(a, failed(T0 + 20, T0 + 5020));
      // in flight and waiting for a retry: both still count
      expect(await hooks.scheduledDeliveries('ep_a')).toBe(2);
      await hooks.settleDelivery(a, succeeded(T0 + 5030));
      await hooks.settleDelivery(b, succeeded(T0 + 5030));
      expect([await hooks.scheduledDeliveries('ep_a'), await hooks.scheduledDeliveries('ep_b')]).toEqual([0, 0]);
    });

    it('keeps the order of a subject: the next is attempted only after the previous was accepted or given up', async () => {
      const [a, b, c] = [delivery(1), delivery(2), delivery(3)];
      const other = delivery(4, 'n2');
      for (const d of [a, b, c, other]) await hooks.createDelivery(d, DAY);
      expect(await claimIds(T0 + 10)).toEqual([a.id, other.id]);
      await hooks.settleDelivery(a, failed(T0 + 20, T0 + 5020));
      expect(await claimIds(T0 + 5000)).toEqual([]);
      expect(await claimIds(T0 + 5020)).toEqual([a.id]);
      await hooks.settleDelivery(a, succeeded(T0 + 5030));
      expect(await claimIds(T0 + 5030)).toEqual([b.id]);
      await hooks.settleDelivery(b, failed(T0 + 5040, null));
      expect(await claimIds(T0 + 5040)).toEqual([c.id]);
      const got = await hooks.getDelivery('ep_a', b.id);
      expect(got?.delivery).toMatchObject({ state: 'failed', attempts: 1, givenUp: true, inOrder: false, dueAt: null, lastAttempt: { status: 500 } });
      expect(got?.attempts).toEqual([{ at: T0 + 5040, ms: 3, status: 500, error: 'HTTP 500' }]);
      expect((await hooks.getDelivery('ep_a', a.id))?.delivery).toMatchObject({ state: 'succeeded', attempts: 2 });
    });

    it('a late attempt after another one succeeded changes nothing but the count', async () => {
      const [a, b] = [delivery(1), delivery(2)];
      await hooks.createDelivery(a, DAY);
      await hooks.createDelivery(b, DAY);
      await claimIds(T0 + 10);
      await hooks.settleDelivery(a, succeeded(T0 + 20));
      await hooks.settleDelivery(a, failed(T0 + 30, null));
      expect((await hooks.getDelivery('ep_a', a.id))?.delivery).toMatchObject({ state: 'succeeded', attempts: 2 });
      // b is scheduled once (by the success), still in its order
      expect(await claimIds(T0 + 40)).toEqual([b.id]);
      expect((await hooks.getDelivery('ep_a', b.id))?.delivery.inOrder).toBe(true);
    });

    it('disables the endpoint when asked (410), or after failing for the limit without a success', async () => {
      await hooks.createDelivery(delivery(1), DAY);
      expect(await hooks.settleDelivery(delivery(1), failed(T0 + 10, T0 + 100, { disable: 'gone' }))).toEqual({
        disabled: { disabledAt: T0 + 10, disabledReason: 'gone', failingSince: T0 + 10 },
      });
      expect(await hooks.endpointState('ep_a')).toEqual({ disabledAt: T0 + 10, disabledReason: 'gone', failingSince: T0 + 10 });
      // the endpoint b: failures over the limit, a success resets the streak
      const limit = 5 * DAY * 1000;
      await hooks.createDelivery(delivery(2, 'n1', 'ep_b'), DAY);
      await hooks.createDelivery(delivery(3, 'n2', 'ep_b'), DAY);
      expect(await hooks.settleDelivery(delivery(2, 'n1', 'ep_b'), failed(T0, T0 + 5))).toEqual({ disabled: null });
      expect(await hooks.settleDelivery(delivery(3, 'n2', 'ep_b'), succeeded(T0 + 10))).toEqual({ disabled: null });
      expect((await hooks.endpointState('ep_b')).failingSince).toBeNull();
      expect(await hooks.settleDelivery(delivery(2, 'n1', 'ep_b'), failed(T0 + 20, T0 + 30))).toEqual({ disabled: null });
      expect(await hooks.settleDelivery(delivery(2, 'n1', 'ep_b'), failed(T0 + 20 + limit - 1, T0 + limit))).toEqual({ disabled: null });
      expect(await hooks.settleDelivery(delivery(2, 'n1', 'ep_b'), failed(T0 + 20 + limit, T0 + limit + 50))).toEqual({
        disabled: { disabledAt: T0 + 20 + limit, disabledReason: 'failing', failingSince: T0 + 20 },
      });
    });

    it('retries by hand: the first of its order at once, a settled one once more outside the order, a later one waits', async () => {
      const [a, b] = [delivery(1), delivery(2)];
      await hooks.createDelivery(a, DAY);
      await hooks.createDelivery(b, DAY);
      expect(await hooks.retryDelivery('ep_a', b.id, T0)).toBe('waiting');
      expect(await hooks.retryDelivery('ep_a', `${a.event}.ep_zz`, T0)).toBe('unknown');
      await claimIds(T0 + 10);
      await hooks.settleDelivery(a, failed(T0 + 20, T0 + 60_000));
      expect(await hooks.retryDelivery('ep_a', a.id, T0 + 30)).toBe('queued');
      expect(await claimIds(T0 + 30)).toEqual([a.id]);
      await hooks.settleDelivery(a, succeeded(T0 + 40));
      // b is the first now; a resend of a (accepted already) goes out beside it and is attempted once
      expect(await hooks.retryDelivery('ep_a', a.id, T0 + 50)).toBe('queued');
      expect((await claimIds(T0 + 50)).sort()).toEqual([a.id, b.id].sort());
      await hooks.settleDelivery(a, failed(T0 + 60, T0 + 70));
      expect(await claimIds(T0 + 100_000)).toEqual([b.id]);
    });

    it('recovers: enables the endpoint and attempts every failed delivery since a time again now', async () => {
      const [a, b, c] = [delivery(1, 'n1'), delivery(2, 'n2'), delivery(3, 'n3')];
      for (const d of [a, b, c]) await hooks.createDelivery(d, DAY);
      await claimIds(T0 + 10);
      await hooks.settleDelivery(a, failed(T0 + 20, null));
      await hooks.settleDelivery(b, failed(T0 + 20, T0 + 3_600_000, { disable: 'gone' }));
      await hooks.settleDelivery(c, succeeded(T0 + 20));
      expect((await hooks.endpointState('ep_a')).disabledAt).toBe(T0 + 20);
      expect(await hooks.recoverDeliveries('ep_a', T0 + 2, T0 + 30)).toBe(1);
      expect(await hooks.endpointState('ep_a')).toEqual({ disabledAt: null, disabledReason: null, failingSince: null });
      expect(await claimIds(T0 + 30)).toEqual([b.id]);
      // the one in flight is attempted again too
      expect(await hooks.recoverDeliveries('ep_a', T0, T0 + 40)).toBe(2);
      expect(await claimIds(T0 + 40)).toEqual([a.id, b.id]);
    });

    it('lists newest first, by state, page by page', async () => {
      const ds = [1, 2, 3, 4, 5].map((n) => delivery(n, `n${n}`));
      for (const d of ds) await hooks.createDelivery(d, DAY);
      await claimIds(T0 + 10);
      await hooks.settleDelivery(ds[1], succeeded(T0 + 20));
      await hooks.settleDelivery(ds[3], failed(T0 + 20, T0 + 100));
      const ids = (page: { deliveries: Array<{ id: string }> }) => page.deliveries.map((d) => d.id);
      const first = await hooks.listDeliveries('ep_a', { limit: 2 });
      expect(ids(first)).toEqual([ds[4].id, ds[3].id]);
      const second = await hooks.listDeliveries('ep_a', { limit: 2, after: first.next as string });
      expect(ids(second)).toEqual([ds[2].id, ds[1].id]);
      const third = await hooks.listDeliveries('ep_a', { limit: 2, after: second.next as string });
      expect(third).toEqual({ deliveries: [expect.objectContaining({ id: ds[0].id })], next: null });
      expect(ids(await hooks.listDeliveries('ep_a', { limit: 10, state: 'pending' }))).toEqual([ds[4].id, ds[2].id, ds[0].id]);
      expect(ids(await hooks.listDeliveries('ep_a', { limit: 10, state: 'failed' }))).toEqual([ds[3].id]);
      expect(await hooks.listDeliveries('ep_a', { limit: 10, state: 'succeeded' })).toEqual({ deliveries: [expect.objectContaining({ id: ds[1].id, state: 'succeeded' })], next: null });
    });

    it('keeps API endpoints and forgets one with its queues', async () => {
      await hooks.saveEndpoint('ep_x', '{"url":"https://a.example"}');
      await hooks.createDelivery(delivery(1, 'n1', 'ep_x'), DAY);
      expect(await hooks.listEndpoints()).toEqual({ ep_x: '{"url":"https://a.example"}' });
      await hooks.deleteEndpoint('ep_x');
      expect(await hooks.listEndpoints()).toEqual({});
      expect(await hooks.claimDeliveries('ep_x', T0 + 10, 1000, 10)).toEqual({ deliveries: [], nextDueAt: null });
      await expect(hooks.saveEndpoint('bad id', '{}')).rejects.toThrow(/endpoint id/);
    });
  });
}

describeWebhookStore('MemoryStore', async () => {
  const store = new MemoryStore();
  return { store, close: () => store.close() };
});

describeWebhookStore('RedisStore', async () => {
  if (!url) throw new Error('TEST_REDIS_URL is not set: run `npm test`');
  const store = await RedisStore.connect({ url, prefix: newPrefix() });
  return { store, close: () => store.close() };
});

describe('on a Redis Cluster (every script in one slot)', () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await RedisCluster.launch({ masters: 3, persistence: 'none' });
  }, 30_000);
  afterAll(() => cluster?.stop());
  describeWebhookStore('RedisStore on a cluster', async () => {
    const store = await RedisStore.connect({ clusterNodes: cluster.nodes, prefix: newPrefix() });
    return { store, close: () => store.close() };
  });
});

describe('webhook store in Redis: the outbox index', () => {
  it('finds an event whose hint was lost (a crash right after the move) by its sweep', async () => {
    if (!url) throw new Error('TEST_REDIS_URL is not set: run `npm test`');
    const prefix = newPrefix();
    const store = await RedisStore.connect({ url, prefix, indexSweepIntervalMs: 100 });
    const admin = createClient({ url });
    await admin.connect();
    try {
      const account = store.forAccount(APP);
      const id = account.newId('o1');
      await account.create(id, { status: 'queued', openid: 'o1' }, entry('queued'), { ttlSeconds: DAY });
      await account.move(id, { from: ['queued'], to: 'failed', event: { type: 'notification.failed', at: T0, fields: ['status'] } });
      // the index as if the hint never ran (once it has: a move does not wait for it)
      await eventually(async () => (await admin.exists(`{${prefix}}:outbox-index`)) === 1);
      expect(await admin.del(`{${prefix}}:outbox-index`)).toBe(1);
      await new Promise((r) => setTimeout(r, 150));
      const [batch] = await store.webhooks.claimOutbox(T0 + 10, 1000, 10, 10);
      expect(batch.events.map((e) => e.subject)).toEqual([id]);
    } finally {
      await admin.close();
      await store.close();
    }
  });
});
