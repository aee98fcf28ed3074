import { randomBytes } from 'node:crypto';
import { MOVES, moveRecording, recordMove, type MoveChange, type MoveName, type Status } from '../../src/delivery/lifecycle';
import { toFields } from '../../src/delivery/notification';
import { receiptMove, receiptNotes } from '../../src/delivery/receipt-commit';
import { RedisStore } from '../../src/store/redis-store';
import { LINKED_AFTER_RECEIPT_SECONDS, type AccountStore, type HistoryEntry, type MsgidReceipt, type RecordMove } from '../../src/store/store';
import { testRedisClient, type TestRedisClient } from '../helpers/stored-notices';
import { APP } from './contract';

const DAY = 86_400;
const T0 = Date.parse('2026-11-30T07:43:16.172Z');
const OPENID = 'oUSER_shape_000000000000001';
const MSGID = '3147483654123456790';
const TEMPLATE_ID = 'ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY';
const iso = (ms: number) => new Date(ms).toISOString();

/** The fields of a notice as the API accepts it (template data with Chinese values, a url). */
const noticeFields = () =>
  toFields({
    openid: OPENID,
    template: 'order_paid',
    data: { first: { value: '您好，您的订单有新进展' }, order_no: { value: 'A0000000461' }, amount: { value: '¥128.00', color: '#FF0000' }, remark: { value: '感谢您的惠顾' } },
    url: 'https://shop.example.com/orders/A0000000461',
    id: '',
    client: '97c2931ef2ab94bb',
    status: 'queued',
    attempts: 0,
    csAttempts: 0,
    createdAt: T0,
  });

/** Move `name` of the lifecycle at `at`, as the delivery builds it (status event included). */
function lifecycleMove(name: MoveName, change: MoveChange, at: number): RecordMove {
  const rule = MOVES[name];
  return recordMove(name, { template: 'order_paid' }, change, { from: rule.from, to: rule.to as Status, at }, moveRecording(DAY));
}

const SENT_DETAIL = `template ${TEMPLATE_ID} accepted, msgid ${MSGID}; the user sees it cut: first is not shown by WeChat since 2023; remark is not shown by WeChat since 2023`;

/** A receipt from the notice's user for MSGID, as the receipt intake hands it to the store. */
function receiptFor(status: string, at: number): MsgidReceipt {
  const { name, change } = receiptMove(MSGID, status, at);
  return {
    user: OPENID,
    pushKey: `rcpt:${OPENID}:${MSGID}:${status}`,
    seenSeconds: DAY,
    msgid: MSGID,
    status,
    stashSeconds: DAY,
    move: lifecycleMove(name, change, at),
    notes: { at: iso(at), ...receiptNotes(MSGID, status) },
  };
}

describe('a record in Redis: one listpack hash with its history', () => {
  let redis: TestRedisClient;
  let store: RedisStore;
  let account: AccountStore;
  let prefix: string;
  const keysOf = async () => {
    const found: string[] = [];
    for await (const keys of redis.scanIterator({ MATCH: `{${prefix}*`, COUNT: 1000 })) found.push(...keys);
    return found.sort();
  };
  const recordKey = (id: string) => `{${prefix}:${APP}:${id.slice(1, 3)}}:rec:${id}`;
  const historyKey = (id: string) => `{${prefix}:${APP}:${id.slice(1, 3)}}:hist:${id}`;
  /** The events the moves recorded, in order (each with the history as its move left it). */
  const events = async () => (await store.webhooks.claimOutbox(Date.now(), 60_000, 100, 100)).flatMap((batch) => batch.events);

  beforeAll(async () => {
    redis = await testRedisClient();
  });
  afterAll(() => redis.close());
  beforeEach(async () => {
    prefix = `shape-${randomBytes(4).toString('hex')}`;
    store = await RedisStore.connect({ url: process.env.TEST_REDIS_URL!, prefix });
    account = store.forAccount(APP);
  });
  afterEach(async () => {
    await store.close();
    const keys = await keysOf();
    if (keys.length > 0) await redis.del(keys);
  });

  it('keeps a delivered notice in one listpack hash, gives it back as written, and its event carries the history', async () => {
    const id = account.newId(OPENID);
    const fields = noticeFields();
    const accepted: HistoryEntry = { at: iso(T0), status: 'queued', detail: 'accepted' };
    await account.create(id, fields, accepted, { ttlSeconds: DAY, dueAt: T0, index: { terms: [`u:${OPENID}`], at: T0 } });
    const sent = lifecycleMove('sent', { detail: SENT_DETAIL, set: { msgid: MSGID, templateId: TEMPLATE_ID, channel: 'template', receiptDueAt: String(T0 + 600_000) }, dueAt: T0 + 600_000, call: { path: '/cgi-bin/message/template/send', errcode: 0, ms: 43 } }, T0 + 1000);
    await expect(account.move(id, sent)).resolves.toBe(true);
    await account.linkMsgid(MSGID, id, DAY);
    await expect(Promise.all(account.applyReceipts([receiptFor('success', T0 + 2000)]))).resolves.toEqual([{ result: 'moved', id }]);

    const history = [accepted, sent.history, { at: iso(T0 + 2000), status: 'delivered', detail: `receipt for msgid ${MSGID}: success` }];
    await expect(account.get(id)).resolves.toEqual({ fields: { ...fields, status: 'delivered', msgid: MSGID, templateId: TEMPLATE_ID, channel: 'template', receiptDueAt: String(T0 + 600_000) }, history });
    expect(await redis.objectEncoding(recordKey(id))).toBe('listpack');
    // no history list beside it; the msgid link and the push mark of its receipt go soon
    const shard = `{${prefix}:${APP}:${id.slice(1, 3)}}:`;
    expect((await keysOf()).filter((key) => key.startsWith(shard) && !/:(due|outbox|cnt:.*)$/.test(key))).toEqual(
      [`ix:u%3A${OPENID}`, `msgid:${MSGID}`, `push:${OPENID}:rcpt:${OPENID}:${MSGID}:success`, `rec:${id}`].map((rest) => shard + rest).sort(),
    );
    for (const key of [`${shard}msgid:${MSGID}`, `${shard}push:${OPENID}:rcpt:${OPENID}:${MSGID}:success`]) {
      expect(await redis.ttl(key)).toBeGreaterThan(LINKED_AFTER_RECEIPT_SECONDS - 10);
      expect(await redis.ttl(key)).toBeLessThanOrEqual(LINKED_AFTER_RECEIPT_SECONDS);
    }
    expect(await redis.ttl(recordKey(id))).toBeGreaterThan(DAY - 10);
    const [event] = await events();
    expect(event).toMatchObject({ type: 'notification.delivered', subject: id, record: { fields: { status: 'delivered', msgid: MSGID, templateId: TEMPLATE_ID }, history } });
    // WeChat's re-send of the receipt changes nothing; a second status is noted as late
    await expect(Promise.all(account.applyReceipts([receiptFor('success', T0 + 3000)]))).resolves.toEqual([{ result: 'duplicate' }]);
    await expect(Promise.all(account.applyReceipts([receiptFor('failed:user block', T0 + 4000)]))).resolves.toEqual([{ result: 'late', id }]);
    await account.appendHistory(id, { at: iso(T0 + 5000), status: 'delivered', detail: 'a note' });
    expect((await account.get(id))?.history.slice(3)).toEqual([
      { at: iso(T0 + 4000), status: 'delivered', detail: `late receipt for msgid ${MSGID}: failed:user block; changed nothing` },
      { at: iso(T0 + 5000), status: 'delivered', detail: 'a note' },
    ]);
    expect(await redis.objectEncoding(recordKey(id))).toBe('listpack');
  });

  it('cuts a long line between characters over several fields, and a long value only costs a hashtable', async () => {
    const id = account.newId(OPENID);
    const long = `${'长'.repeat(21)}x${'🙂'.repeat(30)} "quoted" \n ${'y'.repeat(130)}`;
    await account.create(id, { status: 'queued', openid: OPENID }, { at: iso(T0), status: 'queued', detail: long }, { ttlSeconds: DAY });
    await account.move(id, { from: ['queued'], to: 'queued', history: { at: iso(T0 + 1), status: 'queued', detail: long, call: 'c,45015,12' } });
    const slots = Object.entries(await redis.hGetAll(recordKey(id))).filter(([field]) => /^~\d+$/.test(field));
    expect(slots.length).toBeGreaterThan(8);
    for (const [, value] of slots) expect(Buffer.byteLength(value)).toBeLessThanOrEqual(64);
    expect(await redis.objectEncoding(recordKey(id))).toBe('listpack');
    const history = [{ at: iso(T0), status: 'queued', detail: long }, { at: iso(T0 + 1), status: 'queued', detail: long, call: 'c,45015,12' }];
    await expect(account.get(id)).resolves.toEqual({ fields: { status: 'queued', openid: OPENID }, history });

    const url = `https://shop.example.com/orders/A0000000461?${'utm=campaign&'.repeat(8)}`;
    await account.move(id, { from: ['queued'], to: 'queued', set: { url } });
    expect(await redis.objectEncoding(recordKey(id))).toBe('hashtable');
    await expect(account.get(id)).resolves.toEqual({ fields: { status: 'queued', openid: OPENID, url }, history });
  });

  it('gives each record of one creation call its own first line, records sharing a line and records with another alike', async () => {
    // one user, so one shard: the records are written by one script, which cuts a line into slots once
    const shared: HistoryEntry = { at: iso(T0), status: 'queued', detail: `shared ${'长'.repeat(40)}` };
    const other: HistoryEntry = { at: iso(T0 + 1), status: 'queued', detail: `other ${'y'.repeat(150)}` };
    const histories = [shared, other, shared, other, shared];
    const ids = histories.map(() => account.newId(OPENID));
    const created = await account.createMany(ids.map((id, i) => ({ id, fields: { status: 'queued', openid: OPENID }, history: histories[i], options: { ttlSeconds: DAY } })));
    expect(created.map((c) => c.status)).toEqual(histories.map(() => 'fulfilled'));
    for (const [i, id] of ids.entries()) await expect(account.get(id)).resolves.toEqual({ fields: { status: 'queued', openid: OPENID }, history: [histories[i]] });
    // a record's later line goes after its own first one, whatever the others hold
    await account.appendHistory(ids[2], { at: iso(T0 + 2), status: 'queued', detail: 'a note' });
    await expect(account.get(ids[2])).resolves.toEqual({ fields: { status: 'queued', openid: OPENID }, history: [shared, { at: iso(T0 + 2), status: 'queued', detail: 'a note' }] });
    await expect(account.get(ids[4])).resolves.toEqual({ fields: { status: 'queued', openid: OPENID }, history: [shared] });
  });

  it('stores data given as an object exactly as its JSON: each keyword a field, or kept whole when it would not read back', async () => {
    const { data: json, ...beside } = noticeFields();
    const shapes = [JSON.parse(json), Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, { value: String(i) }]))];
    for (const data of shapes) {
      const [fromJson, fromObject] = [account.newId(OPENID), account.newId(OPENID)];
      const history: HistoryEntry = { at: iso(T0), status: 'queued', detail: 'accepted' };
      await account.createMany([
        { id: fromJson, fields: { ...beside, data: JSON.stringify(data) }, history, options: { ttlSeconds: DAY } },
        { id: fromObject, fields: beside, data, history, options: { ttlSeconds: DAY } },
      ]);
      const hash = await redis.hGetAll(recordKey(fromObject));
      expect(hash).toEqual(await redis.hGetAll(recordKey(fromJson)));
      // the notice's keywords are fields of their own; sixty (past the 52 places) stay one JSON field
      expect(Object.keys(hash).filter((field) => field.startsWith('~') && !/^~\d*$/.test(field)).length).toBe(data === shapes[0] ? 5 : 0);
      expect(hash.data).toBe(data === shapes[0] ? undefined : JSON.stringify(data));
    }
  });

  it('refuses fields named as its own, changing nothing', async () => {
    const id = account.newId(OPENID);
    await expect(account.create(id, { status: 'queued', '~1': 'x' }, { at: iso(T0), status: 'queued', detail: '' }, { ttlSeconds: DAY })).rejects.toThrow(/store's own/);
    await expect(account.get(id)).resolves.toBeNull();
    await account.create(id, { status: 'queued' }, { at: iso(T0), status: 'queued', detail: '' }, { ttlSeconds: DAY });
    await expect(account.move(id, { from: ['queued'], to: 'failed', set: { '~': '9' } })).rejects.toThrow(/store's own/);
    await expect(account.move(id, { from: ['queued'], to: 'failed', expect: { '~1': '' } })).rejects.toThrow(/store's own/);
    await expect(account.get(id)).resolves.toMatchObject({ fields: { status: 'queued' } });
  });

  it('reads and moves a record written in the earlier shape (data as JSON, the history in a list)', async () => {
    const id = account.newId(OPENID);
    const fields = { ...noticeFields(), status: 'awaiting_receipt', msgid: MSGID, templateId: TEMPLATE_ID, channel: 'template', receiptDueAt: String(T0 + 600_000) };
    const before: HistoryEntry[] = [
      { at: iso(T0), status: 'queued', detail: 'accepted' },
      { at: iso(T0 + 1000), status: 'awaiting_receipt', detail: SENT_DETAIL, call: 't,0,43' },
    ];
    // what the earlier version's create and move scripts left
    await redis.hSet(recordKey(id), fields);
    await redis.expire(recordKey(id), DAY);
    await redis.rPush(historyKey(id), before.map((entry) => JSON.stringify(entry)));
    await redis.expire(historyKey(id), DAY);
    await redis.set(`{${prefix}:${APP}:${id.slice(1, 3)}}:msgid:${MSGID}`, id, { EX: DAY });
    expect(await redis.objectEncoding(recordKey(id))).toBe('hashtable');

    await expect(account.get(id)).resolves.toEqual({ fields, history: before });
    await expect(Promise.all(account.applyReceipts([receiptFor('failed:user block', T0 + 2000)]))).resolves.toEqual([{ result: 'moved', id }]);
    await account.appendHistory(id, { at: iso(T0 + 3000), status: 'fallback_pending', detail: 'a note' });
    await expect(Promise.all(account.applyReceipts([receiptFor('success', T0 + 4000)]))).resolves.toEqual([{ result: 'late', id }]);
    const fallback = lifecycleMove('fallbackSent', { detail: 'customer-service text accepted', set: { channel: 'customer_service', text: '您的订单 A0000000461 已支付' }, dueAt: null }, T0 + 5000);
    await expect(account.move(id, fallback)).resolves.toBe(true);

    const history = [
      ...before,
      { at: iso(T0 + 2000), status: 'fallback_pending', detail: `template path failed: receipt for msgid ${MSGID}: failed:user block` },
      { at: iso(T0 + 3000), status: 'fallback_pending', detail: 'a note' },
      { at: iso(T0 + 4000), status: 'fallback_pending', detail: `late receipt for msgid ${MSGID}: success; changed nothing` },
      { at: iso(T0 + 5000), status: 'fallback_sent', detail: 'customer-service text accepted' },
    ];
    await expect(account.get(id)).resolves.toEqual({
      fields: { ...fields, status: 'fallback_sent', channel: 'customer_service', text: '您的订单 A0000000461 已支付', reason: 'receipt: failed:user block' },
      history,
    });
    // its lines went on in its list, none into the hash
    expect(await redis.lLen(historyKey(id))).toBe(history.length);
    expect(Object.keys(await redis.hGetAll(recordKey(id))).filter((field) => field.startsWith('~'))).toEqual([]);
    expect((await events()).map((e) => [e.type, e.record?.history])).toEqual([['notification.fallback_sent', history]]);
  });
});
