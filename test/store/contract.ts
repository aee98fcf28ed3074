import type { BucketCount } from '../../src/store/counter-buckets';
import type { AccountStore, DueWork, HistoryEntry, NewRecord, ReceiptApplied, SearchPage, SearchPosition, Store } from '../../src/store/store';
import { settledValue, type Settled } from '../../src/settled';

export interface StoreHandle {
  store: Store;
  cleanup(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const entry = (status: string, detail = ''): HistoryEntry => ({ at: '2024-01-01T00:00:00.000Z', status, detail });
const DAY = 86_400;

export const APP = 'wxc0ffee0000000001';
export const OTHER_APP = 'wxc0ffee0000000002';

/**
 * An id of `user` in `account` whose random part is the number `n`, so a test can order ids (the
 * store never looks inside the random part).
 */
export function idOf(account: AccountStore, user: string, n: number): string {
  const id = account.newId(user);
  return `${id.slice(0, 3)}${n.toString(16).padStart(22, '0')}${id.slice(25)}`;
}

/** Creates `count` queued records of `account`, spread over `users` users, due at `dueAt(i)`; returns their ids. */
export async function createMany(account: AccountStore, count: number, users: number, dueAt: (i: number) => number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => account.newId(`o-${account.account}-${i % users}`));
  for (let start = 0; start < count; start += 500) {
    await Promise.all(
      ids.slice(start, start + 500).map((id, j) => account.create(id, { status: 'queued' }, entry('queued'), { ttlSeconds: DAY, dueAt: dueAt(start + j) })),
    );
  }
  return ids;
}

/**
 * A receipt from `user` for `msgid` that delivers an awaiting record, as applyReceipts takes it
 * (its push named by user, msgid and status unless `pushKey` says otherwise); what became of it.
 */
export function receipt(account: AccountStore, user: string, msgid: string, status: string, o: { pushKey?: string; stashSeconds?: number } = {}): Promise<ReceiptApplied> {
  const move = { from: ['awaiting_receipt'], to: 'delivered', set: { msgid }, history: entry('delivered', `receipt ${status}`), dueAt: null };
  const notes = { at: '2024-01-01T00:00:01.000Z', foreign: `foreign ${status}`, late: `late ${status}` };
  const pushKey = o.pushKey ?? `rcpt:${user}:${msgid}:${status}`;
  return account.applyReceipts([{ user, pushKey, seenSeconds: DAY, msgid, status, stashSeconds: o.stashSeconds ?? DAY, move, notes }])[0];
}

/**
 * The behaviour every Store must have. Each test gets a fresh store from `makeStore`; TTLs are
 * checked with real time in one test that waits about a second once.
 */
export function describeStoreContract(name: string, makeStore: () => Promise<StoreHandle>): void {
  describe(`Store contract: ${name}`, () => {
    let handle: StoreHandle;
    let store: Store;
    let account: AccountStore;
    beforeEach(async () => {
      handle = await makeStore();
      store = handle.store;
      account = store.forAccount(APP);
    });
    afterEach(async () => {
      await handle.cleanup();
    });

    /** Ids of user o1 (one shard), numbered so tests can order them. */
    const id = (n: number) => idOf(account, 'o1', n);
    const createQueued = (recordId: string, dueAt?: number) =>
      account.create(recordId, { status: 'queued', openid: 'o1' }, entry('queued', 'accepted'), { ttlSeconds: DAY, dueAt });
    const claimedIds = async (now: number, leaseMs: number, limit: number) => (await store.claimDue(now, leaseMs, limit)).map((work) => work.id);
    /** A claim's account and id of each claimed record (the record the claim read is left out). */
    const claimedWork = async (now: number, leaseMs: number, limit: number) => (await store.claimDue(now, leaseMs, limit)).map(({ account, id }) => ({ account, id }));

    describe('accounts and ids', () => {
      it('makes ids that name their account, and knows no account for anything else', () => {
        const made = account.newId('o1');
        expect(made).toMatch(/^n[0-9a-f]{24}\.wxc0ffee0000000001$/);
        expect(store.accountOfId(made)).toBe(APP);
        expect(store.accountOfId(store.forAccount(OTHER_APP).newId('o1'))).toBe(OTHER_APP);
        expect(account.newId('o1')).not.toBe(made);
        // ids of one user share the shard (the three first characters); many users use several
        expect(account.newId('o1').slice(0, 3)).toBe(made.slice(0, 3));
        expect(new Set(Array.from({ length: 64 }, (_, i) => account.newId(`user-${i}`).slice(0, 3))).size).toBeGreaterThan(1);
        for (const junk of ['', 'n1', made.toUpperCase(), `x${made.slice(1)}`, made.slice(0, -1) + '!', `nff${made.slice(3)}`, `${made}:x`, made.replace('.', '')]) {
          expect([junk, store.accountOfId(junk)]).toEqual([junk, null]);
        }
      });

      it('refuses account names that do not fit in keys, and ids of other accounts', async () => {
        for (const bad of ['', 'a:b', '{x}', 'a b', 'x'.repeat(65)]) expect(() => store.forAccount(bad)).toThrow(/account/);
        const other = store.forAccount(OTHER_APP).newId('o1');
        await expect(account.get(other)).rejects.toThrow(/not a record id of account/);
        await expect(createQueued(other)).rejects.toThrow(/not a record id of account/);
        await expect(account.move('junk', { from: ['queued'], to: 'sent' })).rejects.toThrow(/not a record id of account/);
        await expect(account.get(id(1))).resolves.toBeNull();
      });

      it('keeps two accounts apart: the same openid, msgid, push, window, parked list and key names', async () => {
        const other = store.forAccount(OTHER_APP);
        const mine = account.newId('o1');
        const theirs = other.newId('o1');
        await account.create(mine, { status: 'queued' }, entry('queued'), { ttlSeconds: DAY, idempotency: { key: 'client:k', fingerprint: 'f1' } });
        await expect(other.create(theirs, { status: 'queued' }, entry('queued'), { ttlSeconds: DAY, idempotency: { key: 'client:k', fingerprint: 'f2' } }))
          .resolves.toEqual({ created: true });

        await expect(account.linkMsgid('3147483654123456789', mine, DAY)).resolves.toBeNull();
        await expect(receipt(other, 'o1', '3147483654123456789', 'failed:user block')).resolves.toEqual({ result: 'stashed' }); // in the other account
        await expect(receipt(account, 'o1', '3147483654123456789', 'success')).resolves.toMatchObject({ id: mine });
        await expect(other.linkMsgid('3147483654123456789', theirs, DAY)).resolves.toBe('failed:user block');
        await expect(receipt(other, 'o1', '3147483654123456789', 'success')).resolves.toMatchObject({ id: theirs });

        await expect(account.firstSeenPush('o1', 'msg:1', DAY)).resolves.toBe(true);
        await expect(other.firstSeenPush('o1', 'msg:1', DAY)).resolves.toBe(true);
        await account.openWindow('o1', 'message', 5, Date.now() + 60_000, 60);
        await expect(other.getWindow('o1', 'message')).resolves.toBeNull();
        await account.park(mine, { from: ['queued'], to: 'parked' }, { owner: 'o1', score: 1, ttlSeconds: DAY, until: Date.now() + 3_600_000 });
        await expect(other.parkedFor('o1', 10)).resolves.toEqual([]);
        await expect(account.parkedFor('o1', 10)).resolves.toEqual([mine]);

        await account.setValue('token', 'mine');
        await store.deployment.setValue('token', 'platform');
        await expect(other.getValue('token')).resolves.toBeNull();
        await expect(account.getValue('token')).resolves.toBe('mine');
        await expect(store.deployment.getValue('token')).resolves.toBe('platform');
        await expect(other.get(theirs)).resolves.toMatchObject({ fields: { status: 'queued' } });
      });

      it('keeps users of one account apart: push memory, windows and replies are per user', async () => {
        await expect(account.firstSeenPush('o1', 'msg:1', DAY)).resolves.toBe(true);
        await expect(account.firstSeenPush('o2', 'msg:1', DAY)).resolves.toBe(true);
        await expect(account.pushState('o2', 'msg:1')).resolves.toBe('claimed');
        await account.openWindow('o1', 'message', 5, Date.now() + 60_000, 60);
        await expect(account.getWindow('o2', 'message')).resolves.toBeNull();
        // a user name with the separator in it does not reach another user's keys
        await expect(account.firstSeenPush('a:b', 'c', DAY)).resolves.toBe(true);
        await expect(account.firstSeenPush('a', 'b:c', DAY)).resolves.toBe(true);
      });

      it('parks a record only on its own user\'s list', async () => {
        const mine = account.newId('o1');
        await createQueued(mine);
        const stranger = Array.from({ length: 100 }, (_, i) => `u${i}`).find((user) => account.newId(user).slice(0, 3) !== mine.slice(0, 3))!;
        await expect(account.park(mine, { from: ['queued'], to: 'parked' }, { owner: stranger, score: 1, ttlSeconds: DAY, until: Date.now() + 3_600_000 })).rejects.toThrow(/owner/);
        await expect(account.get(mine)).resolves.toMatchObject({ fields: { status: 'queued' } });
      });
    });

    describe('records', () => {
      it('creates a record with its fields and first history entry', async () => {
        await expect(createQueued(id(1))).resolves.toEqual({ created: true });
        await expect(account.get(id(1))).resolves.toEqual({
          fields: { status: 'queued', openid: 'o1' },
          history: [entry('queued', 'accepted')],
        });
        await expect(account.get(id(2))).resolves.toBeNull();
      });

      it('refuses fields without a status and an id that exists', async () => {
        await expect(account.create(id(1), {}, entry('x'), { ttlSeconds: DAY })).rejects.toThrow(/status/);
        await createQueued(id(1));
        await expect(createQueued(id(1))).rejects.toThrow(/already exists/);
        await expect(account.get(id(1))).resolves.toMatchObject({ history: [entry('queued', 'accepted')] });
      });

      it('moves when the status matches: sets fields and appends history in order', async () => {
        await createQueued(id(1));
        const ok = await account.move(id(1), {
          from: ['queued', 'fallback_pending'],
          to: 'awaiting_receipt',
          set: { msgid: '3147483654123456789' },
          history: entry('awaiting_receipt', 'sent'),
        });
        expect(ok).toBe(true);
        await account.move(id(1), { from: ['awaiting_receipt'], to: 'delivered', history: entry('delivered', 'receipt') });
        await expect(account.get(id(1))).resolves.toEqual({
          fields: { status: 'delivered', openid: 'o1', msgid: '3147483654123456789' },
          history: [entry('queued', 'accepted'), entry('awaiting_receipt', 'sent'), entry('delivered', 'receipt')],
        });
      });

      it('changes nothing when the status does not match', async () => {
        await createQueued(id(1), 1000);
        const ok = await account.move(id(1), {
          from: ['awaiting_receipt'],
          to: 'delivered',
          set: { channel: 'template' },
          history: entry('delivered'),
          dueAt: null,
        });
        expect(ok).toBe(false);
        await expect(account.get(id(1))).resolves.toEqual({
          fields: { status: 'queued', openid: 'o1' },
          history: [entry('queued', 'accepted')],
        });
        await expect(store.scheduleInfo()).resolves.toEqual({ size: 1, nextDueAt: 1000 });
      });

      it('returns false for a missing record and does not create it', async () => {
        await expect(account.move(id(9), { from: ['queued'], to: 'failed', set: { a: 'b' }, dueAt: 5 })).resolves.toBe(false);
        await expect(account.get(id(9))).resolves.toBeNull();
        await expect(store.scheduleInfo()).resolves.toEqual({ size: 0, nextDueAt: null });
      });

      it('updates fields only when to equals the current status; to wins over set.status', async () => {
        await createQueued(id(1));
        await expect(account.move(id(1), { from: ['queued'], to: 'queued', set: { attempts: '1' } })).resolves.toBe(true);
        await account.move(id(1), { from: ['queued'], to: 'failed', set: { status: 'delivered', reason: 'x' } });
        const record = await account.get(id(1));
        expect(record?.fields).toEqual({ status: 'failed', openid: 'o1', attempts: '1', reason: 'x' });
        expect(record?.history).toHaveLength(1);
      });

      it('compares other fields too: expect must match ("" = absent or empty)', async () => {
        await createQueued(id(1));
        const mark = () => account.move(id(1), { from: ['queued'], to: 'queued', expect: { marker: '' }, set: { marker: 'm1' } });
        const both = await Promise.all([mark(), mark()]);
        expect(both.sort()).toEqual([false, true]);
        await expect(account.move(id(1), { from: ['queued'], to: 'sent', expect: { marker: 'other' } })).resolves.toBe(false);
        await expect(account.move(id(1), { from: ['queued'], to: 'queued', expect: { marker: 'm1' }, set: { marker: '' } })).resolves.toBe(true);
        await expect(mark()).resolves.toBe(true);
        expect((await account.get(id(1)))?.fields.status).toBe('queued');
      });

      it('parks, unparks and releases as a reply in the same step as the move, and changes nothing when the CAS fails', async () => {
        const [n0, n1, n2] = [id(0), id(1), id(2)];
        await createQueued(n0);
        await createQueued(n1);
        await createQueued(n2);
        await expect(account.park(n0, { from: ['queued'], to: 'parked' }, { owner: 'o1', score: 2, ttlSeconds: DAY, until: Date.now() + 3_600_000 })).resolves.toBe(true);
        await expect(account.park(n1, { from: ['queued'], to: 'parked' }, { owner: 'o1', score: 1, ttlSeconds: DAY, until: Date.now() + 3_600_000 })).resolves.toBe(true);
        await expect(account.park(n2, { from: ['fallback_pending'], to: 'parked' }, { owner: 'o1', score: 0, ttlSeconds: DAY, until: Date.now() + 3_600_000 })).resolves.toBe(false);
        expect(await account.parkedFor('o1', 10)).toEqual([n1, n0]);
        expect(await account.parkedFor('o1', 1)).toEqual([n1]);

        const reply = { pushKey: 'msg:1', text: 'hello 你好', ttlMs: 60_000 };
        await expect(account.releaseAsReply(n1, { from: ['queued'], to: 'sent' }, 'o1', reply)).resolves.toBe(false);
        expect(await account.replyFor('o1', 'msg:1')).toBeNull();
        await expect(account.releaseAsReply(n1, { from: ['parked'], to: 'sent' }, 'o1', reply)).resolves.toBe(true);
        expect(await account.replyFor('o1', 'msg:1')).toBe('hello 你好');
        expect(await account.replyFor('o2', 'msg:1')).toBeNull();
        expect(await account.parkedFor('o1', 10)).toEqual([n0]);

        await expect(account.move(n0, { from: ['queued'], to: 'pending' }, 'o1')).resolves.toBe(false);
        expect(await account.parkedFor('o1', 10)).toEqual([n0]);
        await expect(account.move(n0, { from: ['parked'], to: 'pending' }, 'o1')).resolves.toBe(true);
        expect(await account.parkedFor('o1', 10)).toEqual([]);
      });

      it('takes flat values as they are: unpaired surrogates, brackets, newlines and empty strings', async () => {
        await createQueued(id(1));
        const odd = 'a\ud800b ]] {"x":1} \n\t 你好';
        await expect(account.move(id(1), { from: ['queued'], to: 'queued', set: { text: odd, gone: '' }, history: entry('queued', odd) })).resolves.toBe(true);
        const record = await account.get(id(1));
        expect(record?.fields.gone ?? '').toBe('');
        expect(record?.history.at(-1)?.detail).toBe(odd);
      });

      it('appends history whatever the status, and is a no-op on a missing record', async () => {
        await createQueued(id(1));
        await account.move(id(1), { from: ['queued'], to: 'delivered' });
        await account.appendHistory(id(1), entry('delivered', 'late receipt'));
        await account.appendHistory(id(9), entry('delivered', 'late receipt'));
        await expect(account.get(id(1))).resolves.toMatchObject({
          fields: { status: 'delivered' },
          history: [entry('queued', 'accepted'), entry('delivered', 'late receipt')],
        });
        await expect(account.get(id(9))).resolves.toBeNull();
      });

      it('returns copies: mutating a result does not change the store', async () => {
        await createQueued(id(1));
        const record = await account.get(id(1));
        record!.fields.status = 'mutated';
        record!.history.push(entry('x'));
        await expect(account.get(id(1))).resolves.toMatchObject({ fields: { status: 'queued' }, history: [entry('queued', 'accepted')] });
      });
    });

    describe('idempotency', () => {
      it('returns the existing id and fingerprint for a used key and creates a new record for a new key', async () => {
        const opts = (key: string, fingerprint: string) => ({ ttlSeconds: DAY, dueAt: 10, idempotency: { key, fingerprint } });
        await expect(account.create(id(1), { status: 'queued' }, entry('queued'), opts('k1', 'fp-a'))).resolves.toEqual({ created: true });
        await expect(account.create(id(2), { status: 'queued' }, entry('queued'), opts('k1', 'fp-b'))).resolves.toEqual({
          created: false,
          existingId: id(1),
          fingerprint: 'fp-a',
        });
        await expect(account.get(id(2))).resolves.toBeNull();
        await expect(store.scheduleInfo()).resolves.toEqual({ size: 1, nextDueAt: 10 });
        // a retry with the same id is answered the same way, not as a duplicate id
        await expect(account.create(id(1), { status: 'queued' }, entry('queued'), opts('k1', 'fp-a'))).resolves.toMatchObject({
          created: false,
          existingId: id(1),
        });
        await expect(account.create(id(3), { status: 'queued' }, entry('queued'), opts('k2', 'fp-a'))).resolves.toEqual({ created: true });
        await expect(account.get(id(3))).resolves.not.toBeNull();
      });

      it('answers concurrent requests with one key once', async () => {
        const results = await Promise.all(
          [1, 2, 3, 4].map((n) => account.create(id(n), { status: 'queued' }, entry('queued'), { ttlSeconds: DAY, idempotency: { key: 'k', fingerprint: 'f' } })),
        );
        const created = results.filter((result) => result.created);
        expect(created).toHaveLength(1);
        const winner = id(results.findIndex((result) => result.created) + 1);
        expect(results.filter((result) => !result.created)).toEqual(Array(3).fill({ created: false, existingId: winner, fingerprint: 'f' }));
      });
    });

    describe('createMany', () => {
      const record = (recordId: string, o: { key?: string; fingerprint?: string; dueAt?: number; status?: string } = {}): NewRecord => ({
        id: recordId,
        fields: o.status === '' ? {} : { status: o.status ?? 'queued', openid: recordId.slice(0, 8) },
        history: entry('queued', 'accepted'),
        options: { ttlSeconds: DAY, dueAt: o.dueAt, idempotency: o.key === undefined ? undefined : { key: o.key, fingerprint: o.fingerprint ?? 'f' }, index: { terms: ['t:all'], at: 5 } },
      });
      const settled = async (results: Promise<Settled<unknown>[]>) => (await results).map((r) => (r.status === 'fulfilled' ? { value: r.value } : { error: (r.reason as Error).message }));

      it('creates the records of many users (every shard) in one call, each as create would, in order', async () => {
        const users = Array.from({ length: 40 }, (_, i) => `user-${i}`);
        expect(new Set(users.map((u) => account.newId(u).slice(1, 3))).size).toBeGreaterThan(1);
        const ids = users.map((u) => account.newId(u));
        const results = (await account.createMany(ids.map((recordId, i) => record(recordId, { dueAt: 1000 + i })))).map(settledValue);
        expect(results).toEqual(ids.map(() => ({ created: true })));
        for (const recordId of ids) await expect(account.get(recordId)).resolves.toEqual({ fields: { status: 'queued', openid: recordId.slice(0, 8) }, history: [entry('queued', 'accepted')] });
        await expect(store.scheduleInfo()).resolves.toEqual({ size: 40, nextDueAt: 1000 });
        const claimed = await claimedIds(2000, 1000, 100); // every shard's due index was told
        expect(claimed.sort()).toEqual([...ids].sort());
        await expect(account.findByTerm('t:all', { limit: 100 })).resolves.toMatchObject({ ids: expect.arrayContaining(ids) });
        await expect(account.createMany([])).resolves.toEqual([]);
      });

      it("keeps data given as an object as its JSON: it reads back as JSON.stringify writes it; data given twice is refused", async () => {
        const shapes = [
          { first: { value: '您好' }, amount: { value: '¥128.00', color: '#FF0000' } },
          { b: { value: 'x' }, 2: { value: 'integer-like names come first in JSON' }, '': { value: 'an empty name' } },
          Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, { value: String(i) }])),
          { lone: { value: 'a lone \ud800 surrogate' } },
        ];
        const ids = shapes.map((_, i) => id(i + 1));
        const results = await settled(account.createMany(shapes.map((data, i) => ({ ...record(ids[i]), data }))));
        expect(results).toEqual(shapes.map(() => ({ value: { created: true } })));
        for (const [i, data] of shapes.entries()) expect((await account.get(ids[i]))?.fields.data).toBe(JSON.stringify(data));
        const twice = { ...record(id(9)), fields: { status: 'queued', data: '{}' }, data: shapes[0] };
        await expect(settled(account.createMany([twice]))).resolves.toEqual([{ error: expect.stringMatching(/data given twice/) }]);
        await expect(account.get(id(9))).resolves.toBeNull();
      });

      it('refuses an id that exists and fields without a status, item by item; the others are created', async () => {
        await createQueued(id(1));
        const results = await settled(account.createMany([record(id(2)), record(id(1)), record(id(3), { status: '' }), record(id(4))]));
        expect(results).toEqual([{ value: { created: true } }, { error: expect.stringMatching(/already exists/) }, { error: expect.stringMatching(/status/) }, { value: { created: true } }]);
        await expect(account.get(id(1))).resolves.toEqual({ fields: { status: 'queued', openid: 'o1' }, history: [entry('queued', 'accepted')] });
        await expect(account.get(id(3))).resolves.toBeNull();
        await expect(account.get(id(4))).resolves.not.toBeNull();
      });

      it('answers an idempotency key used earlier or earlier in the same call: the same fingerprint replays, another conflicts', async () => {
        await account.create(id(1), { status: 'queued' }, entry('queued'), { ttlSeconds: DAY, idempotency: { key: 'k0', fingerprint: 'f' } });
        const results = (
          await account.createMany([
            record(id(2), { key: 'k0' }), // a replay of the earlier create
            record(id(3), { key: 'k0', fingerprint: 'other' }), // the earlier key with another body
            record(id(4), { key: 'k1' }), // new
            record(id(5), { key: 'k1' }), // the same request again in this call
            record(id(6), { key: 'k1', fingerprint: 'other' }),
            record(id(7)), // no key
          ])
        ).map(settledValue);
        expect(results).toEqual([
          { created: false, existingId: id(1), fingerprint: 'f' },
          { created: false, existingId: id(1), fingerprint: 'f' },
          { created: true },
          { created: false, existingId: id(4), fingerprint: 'f' },
          { created: false, existingId: id(4), fingerprint: 'f' },
          { created: true },
        ]);
        for (const n of [2, 3, 5, 6]) await expect(account.get(id(n))).resolves.toBeNull();
        for (const n of [1, 4, 7]) await expect(account.get(id(n))).resolves.not.toBeNull();
      });
    });

    describe('due schedule', () => {
      it('puts, moves and removes records through create and transition', async () => {
        const [a, b] = [id(1), id(2)];
        await createQueued(a, 300);
        await createQueued(b);
        await expect(store.scheduleInfo()).resolves.toEqual({ size: 1, nextDueAt: 300 });
        await account.move(b, { from: ['queued'], to: 'queued', dueAt: 200 });
        await expect(store.scheduleInfo()).resolves.toEqual({ size: 2, nextDueAt: 200 });
        await account.move(b, { from: ['queued'], to: 'queued', dueAt: 400 });
        await expect(store.scheduleInfo()).resolves.toEqual({ size: 2, nextDueAt: 300 });
        await account.move(a, { from: ['queued'], to: 'queued' }); // undefined leaves it
        await expect(store.scheduleInfo()).resolves.toEqual({ size: 2, nextDueAt: 300 });
        await account.move(a, { from: ['queued'], to: 'delivered', dueAt: null });
        await account.move(b, { from: ['queued'], to: 'delivered', dueAt: null });
        await expect(store.scheduleInfo()).resolves.toEqual({ size: 0, nextDueAt: null });
      });

      it('claims due records of one user oldest first (ties by id), up to the limit, not the ones due later', async () => {
        const [late, c, b, a, edge] = [id(9), id(3), id(2), id(1), id(5)];
        await createQueued(late, 5000);
        await createQueued(c, 200);
        await createQueued(b, 100);
        await createQueued(a, 200);
        await createQueued(edge, 1000);
        await expect(claimedWork(1000, 10_000, 3)).resolves.toEqual([b, a, c].map((claimed) => ({ account: APP, id: claimed })));
        await expect(claimedIds(1000, 10_000, 3)).resolves.toEqual([edge]);
        await expect(claimedIds(1000, 10_000, 0)).resolves.toEqual([]);
      });

      it('hands over each claimed record as the claim found it', async () => {
        await createQueued(id(1), 100);
        await account.move(id(1), { from: ['queued'], to: 'queued', set: { attempts: '1' }, history: entry('queued', 'retry') });
        const [work] = await store.claimDue(1000, 10_000, 10);
        expect(work.record).toEqual(await account.get(id(1)));
        expect(work.record?.history).toHaveLength(2);
      });

      it('leases a claim: not claimed again until the lease passes, claimed again after', async () => {
        await createQueued(id(1), 100);
        await expect(claimedIds(1000, 500, 10)).resolves.toEqual([id(1)]);
        await expect(store.scheduleInfo()).resolves.toEqual({ size: 1, nextDueAt: 1500 });
        await expect(claimedIds(1499, 500, 10)).resolves.toEqual([]);
        await expect(claimedIds(1500, 500, 10)).resolves.toEqual([id(1)]);
        await expect(store.claimDue(1000, 0, 10)).rejects.toThrow(RangeError);
      });

      it('never hands the same id to two callers claiming at once', async () => {
        const ids = await createMany(account, 30, 7, (i) => i);
        const all: string[] = [];
        // a caller may find less than there is while others claim (a shard is claimed by one at a time)
        for (let round = 0; round < 10 && all.length < ids.length; round++) {
          all.push(...(await Promise.all([0, 1, 2, 3, 4].map(() => claimedIds(1000, 60_000, 7)))).flat());
        }
        expect(new Set(all).size).toBe(all.length);
        expect(all.sort()).toEqual([...ids].sort());
      });

      it('claims the due work of every account, and names the account of each', async () => {
        const other = store.forAccount(OTHER_APP);
        const mine = await createMany(account, 3, 3, () => 10);
        const theirs = await createMany(other, 2, 2, () => 20);
        const claimed = await store.claimDue(1000, 60_000, 100);
        expect(claimed.filter((work) => work.account === APP).map((work) => work.id).sort()).toEqual([...mine].sort());
        expect(claimed.filter((work) => work.account === OTHER_APP).map((work) => work.id).sort()).toEqual([...theirs].sort());
        expect(claimed).toHaveLength(5);
      });

      it('is fair: an account with 2,000 due notices does not hold back another account\'s single one', async () => {
        const now = 1_000_000;
        const busy = store.forAccount(OTHER_APP);
        // a few creates in flight at a time: on a busy machine hundreds at once can outlast the call timeout
        const flood = await createMany(busy, 2000, 16, (i) => now - 10_000 + i); // all older than the single one
        const [single] = await createMany(account, 1, 1, () => now);
        const first = await store.claimDue(now, 60_000, 10);
        expect(first).toContainEqual(expect.objectContaining({ account: APP, id: single }));
        expect(first.filter((work) => work.account === OTHER_APP)).toHaveLength(9); // what the single one left goes to the other
        const second = await store.claimDue(now, 60_000, 10);
        expect(second.map((work) => work.account)).toEqual(Array(10).fill(OTHER_APP));
        expect(new Set([...first, ...second].map((work) => work.id)).size).toBe(20);
        expect(flood).toEqual(expect.arrayContaining(second.map((work) => work.id)));
      });

      it('is fair one notice at a time too: claims of one serve each account with due work in turn', async () => {
        const now = 1_000_000;
        const busy = store.forAccount(OTHER_APP);
        await createMany(busy, 200, 16, (i) => now - 10_000 + i); // all older than the single one
        const [single] = await createMany(account, 1, 1, () => now);
        const claims: DueWork[][] = [];
        for (let i = 0; i < 2; i++) claims.push(await store.claimDue(now, 60_000, 1));
        expect(claims.flat()).toContainEqual(expect.objectContaining({ account: APP, id: single }));
      });

      it('makes every record of one account due now, leased ones too, and no other account\'s', async () => {
        const now = 1_000_000;
        const other = store.forAccount(OTHER_APP);
        const mine = await createMany(account, 12, 12, (i) => now + 60_000 * (i + 1));
        const [theirs] = await createMany(other, 1, 1, () => now + 60_000);
        const [leased] = await createMany(account, 1, 1, () => now - 1);
        await expect(claimedWork(now, 600_000, 10)).resolves.toEqual([{ account: APP, id: leased }]);
        mine.push(leased);
        await expect(claimedIds(now, 1000, 100)).resolves.toEqual([]);
        await expect(account.allDueNow(now)).resolves.toBe(13);
        const claimed = await store.claimDue(now, 1000, 100);
        expect(claimed.map((work) => work.id).sort()).toEqual([...mine].sort());
        expect(claimed.map((work) => work.id)).not.toContain(theirs);
        await expect(other.allDueNow(now)).resolves.toBe(1);
        await expect(store.forAccount('wxnothing').allDueNow(now)).resolves.toBe(0);
      });
    });

    describe('msgid correlation', () => {
      it('resolves a linked msgid to its id; link returns null when nothing arrived early', async () => {
        await expect(account.linkMsgid('m1', id(1), DAY)).resolves.toBeNull();
        await expect(receipt(account, 'o1', 'm1', 'success')).resolves.toMatchObject({ id: id(1) });
        await expect(receipt(account, 'o1', 'm1', 'success', { pushKey: 'again' })).resolves.toMatchObject({ id: id(1) });
        await expect(account.linkMsgid('m1', id(1), DAY)).resolves.toBeNull(); // nothing was stashed
      });

      it('stashes the first early status and hands it over, again on every link until it expires', async () => {
        await expect(receipt(account, 'o1', 'm2', 'failed:user block')).resolves.toEqual({ result: 'stashed' });
        await expect(receipt(account, 'o1', 'm2', 'success')).resolves.toEqual({ result: 'stashed' }); // not stashed over the first
        await expect(account.linkMsgid('m2', id(2), DAY)).resolves.toBe('failed:user block');
        // a step that died before applying it finds it again
        await expect(account.linkMsgid('m2', id(2), DAY)).resolves.toBe('failed:user block');
        await expect(receipt(account, 'o1', 'm2', 'success', { pushKey: 'again' })).resolves.toMatchObject({ id: id(2) });
        await expect(account.linkMsgid('m3', id(3), DAY)).resolves.toBeNull(); // other msgids unaffected
      });

      it("links a send's msgid and makes its move in one step, handing over a status that came first", async () => {
        await account.create(id(4), { status: 'queued', openid: 'o1' }, entry('queued'), { ttlSeconds: DAY, dueAt: 5000 });
        await expect(receipt(account, 'o1', 'm4', 'failed:user block')).resolves.toEqual({ result: 'stashed' });
        const sent = { from: ['queued'], to: 'awaiting_receipt', set: { msgid: 'm4' }, history: entry('awaiting_receipt', 'sent'), dueAt: 9000 };
        await expect(account.moveLinkingMsgid(id(4), sent, { msgid: 'm4', ttlSeconds: DAY })).resolves.toEqual({ moved: true, early: 'failed:user block' });
        await expect(account.get(id(4))).resolves.toEqual({ fields: { status: 'awaiting_receipt', openid: 'o1', msgid: 'm4' }, history: [entry('queued'), entry('awaiting_receipt', 'sent')] });
        // the link is made whether or not the move happens: a later receipt reaches the record
        await expect(account.moveLinkingMsgid(id(4), sent, { msgid: 'm5', ttlSeconds: DAY })).resolves.toEqual({ moved: false, early: null });
        await expect(receipt(account, 'o1', 'm5', 'success')).resolves.toEqual({ result: 'moved', id: id(4) });
      });

      /** A user other than o1 whose records are in o1's shard (`same`) or in another. */
      const neighbour = (same: boolean) => {
        const shard = (user: string) => account.newId(user).slice(1, 3);
        for (let i = 0; ; i++) if ((shard(`o-n${i}`) === shard('o1')) === same) return `o-n${i}`;
      };
      const awaiting = async (recordId: string, user: string, msgid: string) => {
        await account.create(recordId, { status: 'awaiting_receipt', openid: user, templateId: 'T1', template: 'order' }, entry('awaiting_receipt'), { ttlSeconds: DAY, dueAt: 5000 });
        await account.linkMsgid(msgid, recordId, DAY);
      };

      it('applies a receipt in one step: the move, the schedule, the push marked handled; the same push again changes nothing', async () => {
        await awaiting(id(1), 'o1', 'm1');
        await expect(receipt(account, 'o1', 'm1', 'success')).resolves.toEqual({ result: 'moved', id: id(1) });
        await expect(account.get(id(1))).resolves.toEqual({
          fields: { status: 'delivered', openid: 'o1', templateId: 'T1', template: 'order', msgid: 'm1' },
          history: [entry('awaiting_receipt'), entry('delivered', 'receipt success')],
        });
        await expect(store.scheduleInfo()).resolves.toEqual({ size: 0, nextDueAt: null });
        await expect(account.pushState('o1', 'rcpt:o1:m1:success')).resolves.toBe('handled');
        const after = await account.get(id(1));
        await expect(receipt(account, 'o1', 'm1', 'success')).resolves.toEqual({ result: 'duplicate' });
        await expect(account.get(id(1))).resolves.toEqual(after);
        // another push for it (a second status): the move's conditions fail, the history says so
        await expect(receipt(account, 'o1', 'm1', 'failed:user block')).resolves.toEqual({ result: 'late', id: id(1) });
        expect((await account.get(id(1)))?.history.at(-1)).toEqual({ at: '2024-01-01T00:00:01.000Z', status: 'delivered', detail: 'late failed:user block' });
      });

      it("leaves another user's record as it was but for a history line, and an expired record as it is", async () => {
        await awaiting(id(1), 'o1', 'm1');
        const other = neighbour(true);
        await expect(receipt(account, other, 'm1', 'success')).resolves.toEqual({ result: 'foreign', id: id(1) });
        const record = await account.get(id(1));
        expect(record?.fields.status).toBe('awaiting_receipt');
        expect(record?.history.at(-1)).toEqual({ at: '2024-01-01T00:00:01.000Z', status: 'awaiting_receipt', detail: 'foreign success' });
        // a user in another shard does not even find the link: the status waits there for a send of its own
        await expect(receipt(account, neighbour(false), 'm1', 'success')).resolves.toEqual({ result: 'stashed' });
        await account.linkMsgid('m-gone', id(9), DAY);
        await expect(receipt(account, 'o1', 'm-gone', 'success')).resolves.toEqual({ result: 'gone', id: id(9) });
      });

      it('applies a batch over many shards, each receipt answered with its own result, in order', async () => {
        const users = Array.from({ length: 24 }, (_, i) => `o-batch-${i}`);
        const ids = users.map((user) => account.newId(user));
        for (const [i, user] of users.entries()) if (i % 3 !== 2) await awaiting(ids[i], user, `b${i}`);
        const results = await Promise.all(
          account.applyReceipts(
            users.map((user, i) => ({
              user,
              pushKey: `rcpt:${i}`,
              seenSeconds: DAY,
              msgid: `b${i}`,
              status: 'success',
              stashSeconds: DAY,
              move: { from: ['awaiting_receipt'], to: 'delivered', history: entry('delivered', 'receipt'), dueAt: null },
              notes: { at: entry('x').at, foreign: 'foreign', late: 'late' },
            })),
          ),
        );
        expect(results).toEqual(users.map((_, i) => (i % 3 === 2 ? { result: 'stashed' } : { result: 'moved', id: ids[i] })));
        for (const [i, recordId] of ids.entries()) if (i % 3 !== 2) expect((await account.get(recordId))?.fields.status).toBe('delivered');
        for (const [i, user] of users.entries()) if (i % 3 === 2) await expect(account.linkMsgid(`b${i}`, account.newId(user), DAY)).resolves.toBe('success');
      });
    });

    describe('de-duplication, values and locks (of an account and of the deployment)', () => {
      it('sees a key first once, and again after forget', async () => {
        await expect(account.firstSeen('push:1', DAY)).resolves.toBe(true);
        await expect(account.firstSeen('push:1', DAY)).resolves.toBe(false);
        await expect(account.firstSeen('push:2', DAY)).resolves.toBe(true);
        await expect(store.deployment.firstSeen('push:1', DAY)).resolves.toBe(true);
        await account.forget('push:1');
        await expect(account.firstSeen('push:1', DAY)).resolves.toBe(true);
        await account.forget('never-seen');
      });

      it('gets, sets and conditionally deletes values', async () => {
        for (const values of [account, store.deployment]) {
          await expect(values.getValue('token')).resolves.toBeNull();
          await values.setValue('token', 'T1', 60_000);
          await values.setValue('token', 'T2');
          await expect(values.getValue('token')).resolves.toBe('T2');
          await expect(values.deleteValueIf('token', 'T1')).resolves.toBe(false);
          await expect(values.getValue('token')).resolves.toBe('T2');
          await expect(values.deleteValueIf('token', 'T2')).resolves.toBe(true);
          await expect(values.getValue('token')).resolves.toBeNull();
          await expect(values.deleteValueIf('token', 'T2')).resolves.toBe(false);
        }
      });

      it('sets a value only where none is', async () => {
        await expect(account.setValueIfAbsent('sig', 'h1', 60_000)).resolves.toBe(true);
        await expect(account.setValueIfAbsent('sig', 'h2', 60_000)).resolves.toBe(false);
        await expect(account.getValue('sig')).resolves.toBe('h1');
      });

      it('locks: acquire, contention, release only by the owner', async () => {
        for (const values of [account, store.deployment]) {
          await expect(values.acquireLock('refresh', 'i1', 60_000)).resolves.toBe(true);
          await expect(values.acquireLock('refresh', 'i2', 60_000)).resolves.toBe(false);
          await expect(values.acquireLock('other', 'i2', 60_000)).resolves.toBe(true);
          await values.releaseLock('refresh', 'i2'); // not the owner: no-op
          await expect(values.acquireLock('refresh', 'i2', 60_000)).resolves.toBe(false);
          await values.releaseLock('refresh', 'i1');
          await expect(values.acquireLock('refresh', 'i2', 60_000)).resolves.toBe(true);
          await values.releaseLock('nobody', 'i1');
        }
      });
    });

    describe('hashes', () => {
      it('merges fields', async () => {
        await expect(account.getHash('h')).resolves.toEqual({});
        await account.setHash('h', { a: '1', b: '2' });
        await account.setHash('h', { b: '3', c: '4' });
        await expect(account.getHash('h')).resolves.toEqual({ a: '1', b: '3', c: '4' });
        await store.deployment.setHash('h', { z: '9' });
        await expect(store.deployment.getHash('h')).resolves.toEqual({ z: '9' });
        await expect(account.getHash('h')).resolves.toEqual({ a: '1', b: '3', c: '4' });
      });
    });

    describe('customer-service windows', () => {
      const now = Date.now();
      const later = now + 3_600_000;

      it('takes uses until exhausted, then expired past its time', async () => {
        await account.openWindow('u', 'w', 2, later, 60);
        await expect(account.getWindow('u', 'w')).resolves.toEqual({ remaining: 2, expiresAt: later });
        await expect(account.takeFromWindow('u', ['w'], now)).resolves.toEqual({ use: 'taken', kind: 'w' });
        await expect(account.takeFromWindow('u', ['w'], now)).resolves.toEqual({ use: 'taken', kind: 'w' });
        await expect(account.takeFromWindow('u', ['w'], now)).resolves.toEqual({ use: 'exhausted' });
        await expect(account.getWindow('u', 'w')).resolves.toEqual({ remaining: 0, expiresAt: later });
        await account.openWindow('u', 'w', 5, later, 60); // replaces
        await expect(account.takeFromWindow('u', ['w'], later)).resolves.toEqual({ use: 'expired' });
        await expect(account.getWindow('u', 'w')).resolves.toEqual({ remaining: 5, expiresAt: later });
      });

      it('reports unknown windows as unknown', async () => {
        await expect(account.takeFromWindow('u', ['nope', 'nada'], now)).resolves.toEqual({ use: 'unknown' });
        await expect(account.takeFromWindow('u', [], now)).resolves.toEqual({ use: 'unknown' });
        await expect(account.getWindow('u', 'nope')).resolves.toBeNull();
      });

      it('takes from the first usable window in order, per user', async () => {
        await account.openWindow('u', 'msg', 1, later, 60);
        await account.openWindow('u', 'follow', 1, later, 60);
        await expect(account.takeFromWindow('u', ['unknown', 'msg', 'follow'], now)).resolves.toEqual({ use: 'taken', kind: 'msg' });
        await expect(account.takeFromWindow('u', ['unknown', 'msg', 'follow'], now)).resolves.toEqual({ use: 'taken', kind: 'follow' });
        await expect(account.takeFromWindow('u', ['msg', 'follow'], now)).resolves.toEqual({ use: 'exhausted' });
        await account.openWindow('u', 'old', 3, now - 1, 60);
        await account.openWindow('u', 'fresh', 1, later, 60);
        await expect(account.takeFromWindow('u', ['old', 'fresh'], now)).resolves.toEqual({ use: 'taken', kind: 'fresh' });
        // one expired and one exhausted: still exhausted (a window is open, just used up)
        await expect(account.takeFromWindow('u', ['old', 'fresh'], now)).resolves.toEqual({ use: 'exhausted' });
        await expect(account.takeFromWindow('u', ['old', 'unknown'], now)).resolves.toEqual({ use: 'expired' });
        await expect(account.takeFromWindow('v', ['msg'], now)).resolves.toEqual({ use: 'unknown' });
      });

      it('gives a message back, and ignores a return to an unknown window', async () => {
        await account.openWindow('u', 'w', 1, later, 60);
        await account.takeFromWindow('u', ['w'], now);
        await account.giveBackToWindow('u', 'w');
        await expect(account.getWindow('u', 'w')).resolves.toEqual({ remaining: 1, expiresAt: later });
        await expect(account.takeFromWindow('u', ['w'], now)).resolves.toEqual({ use: 'taken', kind: 'w' });
        await account.giveBackToWindow('u', 'ghost');
        await expect(account.getWindow('u', 'ghost')).resolves.toBeNull();
      });

      it('closes windows as expired now, also never-opened ones', async () => {
        await account.openWindow('u', 'msg', 5, later, 60);
        await account.openWindow('u', 'follow', 3, later, 60);
        await account.closeWindows('u', ['msg', 'follow', 'ghost'], now, 60);
        await expect(account.getWindow('u', 'msg')).resolves.toEqual({ remaining: 5, expiresAt: now });
        await expect(account.takeFromWindow('u', ['msg', 'follow'], now)).resolves.toEqual({ use: 'expired' });
        await expect(account.takeFromWindow('u', ['ghost'], now)).resolves.toEqual({ use: 'expired' });
        await expect(account.takeFromWindow('u', ['never'], now)).resolves.toEqual({ use: 'unknown' });
        await account.openWindow('u', 'msg', 5, later, 60);
        await expect(account.takeFromWindow('u', ['msg'], now)).resolves.toEqual({ use: 'taken', kind: 'msg' });
      });
    });

    describe('parked lists', () => {
      it('orders by score then id, limits, re-parks with a new score and forgets', async () => {
        const park = async (recordId: string, score: number) => {
          if (!(await account.get(recordId))) await createQueued(recordId);
          await account.move(recordId, { from: ['queued', 'parked'], to: 'queued' });
          return account.park(recordId, { from: ['queued'], to: 'parked' }, { owner: 'o1', score, ttlSeconds: DAY, until: Date.now() + 3_600_000 });
        };
        const [a, b, c, z, y] = [id(1), id(2), id(3), id(26), id(25)];
        for (const [recordId, score] of [[c, 2], [b, 2], [z, 1], [a, 3], [y, 2]] as const) await park(recordId, score);
        await expect(account.parkedFor('o1', 10)).resolves.toEqual([z, b, c, y, a]);
        await expect(account.parkedFor('o1', 2)).resolves.toEqual([z, b]);
        await park(z, 4);
        await account.forgetParked('o1', b);
        await account.forgetParked('o1', id(99));
        await expect(account.parkedFor('o1', 10)).resolves.toEqual([c, y, a, z]);
        await expect(account.parkedFor('o1', 0)).resolves.toEqual([]);
        await expect(account.parkedFor('nobody', 10)).resolves.toEqual([]);
      });
    });

    describe('search', () => {
      /** Creates a record of `user` made by `creator`, listed under `terms` at time `at`. */
      const listed = async (user: string, creator: string | null, terms: string[], at: number) => {
        const recordId = account.newId(user);
        const fields = { status: 'queued', openid: user, ...(creator === null ? {} : { client: creator }) };
        await account.create(recordId, fields, entry('queued'), { ttlSeconds: DAY, index: { terms, at } });
        return recordId;
      };
      /** Every page of a search, followed with `next` until none; also how many pages it took. */
      const allPages = async (find: (after?: SearchPosition) => Promise<SearchPage>) => {
        const ids: string[] = [];
        let after: SearchPosition | undefined;
        for (let pages = 1; pages <= 100; pages++) {
          const page = await find(after);
          ids.push(...page.ids);
          if (page.next === null) return { ids, pages };
          after = page.next;
        }
        throw new Error('more than 100 pages');
      };

      it('finds records by term, newest first (equal times by id, reversed), only of the given creators, a page at a time without gaps or repeats', async () => {
        const T = 1_700_000_000_000;
        const mine: string[] = [];
        // spread over users (so over shards), with equal times among them
        for (let i = 0; i < 13; i++) mine.push(await listed(`user-${i % 5}`, 'me', ['f:order=A1'], T + Math.floor(i / 3)));
        const legacy = await listed('user-9', null, ['f:order=A1'], T + 100);
        const theirs = await listed('user-1', 'them', ['f:order=A1'], T + 50);
        await listed('user-1', 'me', ['f:order=A2'], T + 60);
        const order = (ids: string[]) => [...ids].sort((a, b) => (a < b ? 1 : -1));
        // newest first: by time, equal times by id reversed
        const expected = [legacy, ...[4, 3, 2, 1, 0].flatMap((t) => order(mine.filter((_, i) => Math.floor(i / 3) === t)))];
        for (const limit of [1, 2, 5, 50]) {
          const { ids, pages } = await allPages((after) => account.findByTerm('f:order=A1', { creators: ['me'], limit, after }));
          expect([limit, ids]).toEqual([limit, expected]);
          expect(pages).toBe(Math.max(1, Math.ceil(expected.length / limit)));
        }
        const everyone = await allPages((after) => account.findByTerm('f:order=A1', { limit: 4, after }));
        expect(everyone.ids).toEqual([legacy, theirs, ...expected.slice(1)]);
        await expect(account.findByTerm('f:order=A3', { limit: 10 })).resolves.toEqual({ ids: [], next: null });
        // a term of one user is read from that user's shard alone
        const ofUser = await listed('user-7', 'me', ['u:user-7'], T);
        await expect(account.findByTerm('u:user-7', { limit: 10, user: 'user-7' })).resolves.toEqual({ ids: [ofUser], next: null });
        await expect(store.forAccount(OTHER_APP).findByTerm('f:order=A1', { limit: 10 })).resolves.toEqual({ ids: [], next: null });
      });

      it("pages through many records of other creators without reading all of them at once, and finds each of the creator's", async () => {
        const T = 1_700_000_000_000;
        const mine = [await listed('crowd', 'me', ['u:crowd'], T + 1), await listed('crowd', 'me', ['u:crowd'], T + 2)];
        const others = Array.from({ length: 2500 }, (_, i) => i);
        // 100 at a time: 500 in flight at once outlasted the store's 1.5 s deadline on a slow CI machine
        for (let start = 0; start < others.length; start += 100) {
          await Promise.all(others.slice(start, start + 100).map((i) => listed('crowd', 'them', ['u:crowd'], T + 10 + i)));
        }
        const { ids, pages } = await allPages((after) => account.findByTerm('u:crowd', { creators: ['me'], limit: 10, after, user: 'crowd' }));
        expect(ids).toEqual([mine[1], mine[0]]);
        // a Redis shard looks at 2,000 entries per call: a first page with none of mine, then the rest
        expect(pages).toBeLessThanOrEqual(2);
      });

      it('lists parked records of every owner, the soonest end first; a record leaves when it leaves its owner\'s list', async () => {
        const T = Date.now();
        const park = async (user: string, creator: string, until: number) => {
          const recordId = await listed(user, creator, [], T);
          await account.park(recordId, { from: ['queued'], to: 'parked' }, { owner: user, score: T, ttlSeconds: DAY, until });
          return recordId;
        };
        const late = await park('p1', 'me', T + 3000);
        const early = await park('p2', 'me', T + 1000);
        const middle = await park('p3', 'me', T + 2000);
        const theirs = await park('p4', 'them', T + 1500);
        const page = await account.findParked({ creators: ['me'], limit: 2 });
        expect(page.ids).toEqual([early, middle]);
        await expect(account.findParked({ creators: ['me'], limit: 2, after: page.next as SearchPosition })).resolves.toEqual({ ids: [late], next: null });
        await expect(account.findParked({ limit: 10 })).resolves.toMatchObject({ ids: [early, theirs, middle, late] });
        // released (customer service), made the passive reply, failed: each leaves the index with its owner's list
        await account.move(early, { from: ['parked'], to: 'queued' }, 'p2');
        await account.releaseAsReply(middle, { from: ['parked'], to: 'sent' }, 'p3', { pushKey: 'k', text: 'x', ttlMs: 60_000 });
        await account.move(theirs, { from: ['parked'], to: 'parked' });
        await expect(account.findParked({ limit: 10 })).resolves.toEqual({ ids: [theirs, late], next: null });
      });
    });

    describe('push memory', () => {
      it('sees a push first once, and again after forgetting it; keeps the bot reply for its time', async () => {
        await expect(account.firstSeenPush('o1', 'msg:1', DAY)).resolves.toBe(true);
        await expect(account.firstSeenPush('o1', 'msg:1', DAY)).resolves.toBe(false);
        await account.forgetPush('o1', 'msg:1');
        await expect(account.firstSeenPush('o1', 'msg:1', DAY)).resolves.toBe(true);
        await expect(account.botReplyFor('o1', 'msg:1')).resolves.toBeNull();
        await account.rememberBotReply('o1', 'msg:1', '<xml>hi</xml>', 60_000);
        await expect(account.botReplyFor('o1', 'msg:1')).resolves.toBe('<xml>hi</xml>');
        await expect(account.botReplyFor('o2', 'msg:1')).resolves.toBeNull();
        await expect(account.replyFor('o1', 'msg:1')).resolves.toBeNull();
      });

      it('tells a claimed push from a handled one; renews only a claim still held', async () => {
        await expect(account.pushState('o1', 'msg:2')).resolves.toBeNull();
        await account.renewPushClaim('o1', 'msg:2', DAY); // nothing held: nothing created
        await expect(account.pushState('o1', 'msg:2')).resolves.toBeNull();
        await expect(account.firstSeenPush('o1', 'msg:2', DAY)).resolves.toBe(true);
        await expect(account.pushState('o1', 'msg:2')).resolves.toBe('claimed');
        await account.renewPushClaim('o1', 'msg:2', DAY);
        await expect(account.pushState('o1', 'msg:2')).resolves.toBe('claimed');
        await account.keepPushSeen('o1', 'msg:2', DAY);
        await account.renewPushClaim('o1', 'msg:2', DAY);
        await expect(account.pushState('o1', 'msg:2')).resolves.toBe('handled');
        await expect(account.firstSeenPush('o1', 'msg:2', DAY)).resolves.toBe(false);
      });
    });

    it('pings', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('expires what has a TTL (one real wait of ~1.1 s)', async () => {
      const now = Date.now();
      const [r, keeper, p] = [id(1), id(2), id(3)];
      await account.create(r, { status: 'queued' }, entry('queued'), { ttlSeconds: 1, dueAt: 0, idempotency: { key: 'k', fingerprint: 'f' } });
      // changes after creation keep the retention
      await account.move(r, { from: ['queued'], to: 'awaiting_receipt', set: { a: '1' }, history: entry('awaiting_receipt') });
      await account.appendHistory(r, entry('awaiting_receipt', 'note'));
      await createQueued(keeper, 0);
      await account.linkMsgid('m-linked', r, 1);
      await receipt(account, 'o1', 'm-early', 'success', { stashSeconds: 1 });
      await account.firstSeen('seen', 1);
      await account.setValue('v', 'x', 300);
      await account.setValue('forever', 'y');
      await store.deployment.setValue('v', 'x', 300);
      await account.acquireLock('lock', 'i1', 300);
      await account.openWindow('u', 'w', 1, now, 1);
      await account.create(p, { status: 'queued' }, entry('queued'), { ttlSeconds: DAY });
      await account.park(p, { from: ['queued'], to: 'parked' }, { owner: 'o1', score: 1, ttlSeconds: 1, until: Date.now() + 3_600_000 });
      await account.firstSeenPush('o1', 'push-ttl', 1);
      await account.rememberBotReply('o1', 'push-ttl', 'x', 300);

      await expect(account.get(r)).resolves.toMatchObject({ fields: { status: 'awaiting_receipt' } });
      await expect(account.getValue('v')).resolves.toBe('x');
      await expect(account.getWindow('u', 'w')).resolves.toEqual({ remaining: 1, expiresAt: now });
      await sleep(1100);

      await expect(account.get(r)).resolves.toBeNull();
      await account.appendHistory(r, entry('x')); // must not resurrect the history
      await expect(account.get(r)).resolves.toBeNull();
      // the expired record leaves the schedule when claimed; the live one is claimed
      await expect(claimedIds(now + 5000, 1000, 10)).resolves.toEqual([keeper]);
      await expect(store.scheduleInfo()).resolves.toEqual({ size: 1, nextDueAt: now + 6000 });
      await expect(account.create(id(4), { status: 'queued' }, entry('queued'), { ttlSeconds: DAY, idempotency: { key: 'k', fingerprint: 'g' } }))
        .resolves.toEqual({ created: true });
      await expect(receipt(account, 'o1', 'm-linked', 'success')).resolves.toEqual({ result: 'stashed' });
      await expect(account.linkMsgid('m-early', id(5), DAY)).resolves.toBeNull();
      await expect(account.firstSeen('seen', DAY)).resolves.toBe(true);
      await expect(account.getValue('v')).resolves.toBeNull();
      await expect(store.deployment.getValue('v')).resolves.toBeNull();
      await expect(account.getValue('forever')).resolves.toBe('y');
      await expect(account.acquireLock('lock', 'i2', 1000)).resolves.toBe(true);
      await expect(account.getWindow('u', 'w')).resolves.toBeNull();
      await expect(account.takeFromWindow('u', ['w'], Date.now())).resolves.toEqual({ use: 'unknown' });
      await expect(account.parkedFor('o1', 10)).resolves.toEqual([]);
      await expect(account.firstSeenPush('o1', 'push-ttl', DAY)).resolves.toBe(true);
      await expect(account.botReplyFor('o1', 'push-ttl')).resolves.toBeNull();
    });

    describe('time-bucketed counters (tallies of creations and moves)', () => {
      const MINUTE = 60_000;
      const HOUR = 3_600_000;
      /** Minute 17 (and a half) of an hour three hours ago: the counters are kept from their bucket's end. */
      const HOUR0 = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;
      const AT = HOUR0 + 17 * MINUTE + 30_000;
      const iso = (ms: number) => new Date(ms).toISOString();
      const tally = <S extends string | { field: string } = string>(counters: Array<string | { name: string; onlyFrom: string }>, at = AT, subject?: S) => ({ at, subject: subject ?? 'order_paid', counters, keepSeconds: DAY });
      /** Counts summed by bucket start, subject and counter (a store may answer per shard). */
      const summed = (rows: BucketCount[]) => {
        const out: Record<string, number> = {};
        for (const r of rows) out[`${iso(r.start)} ${r.subject} ${r.counter}`] = (out[`${iso(r.start)} ${r.subject} ${r.counter}`] ?? 0) + r.n;
        return out;
      };

      it('counts a creation (not a replay of it) and the moves that happen, in both resolutions', async () => {
        const users = ['o1', 'o2', 'o3', 'o4', 'o5'];
        const ids = users.map((u) => account.newId(u));
        for (const [i, recordId] of ids.entries()) {
          const idempotency = { key: `k${i}`, fingerprint: 'f' };
          await account.create(recordId, { status: 'queued', template: 'order_paid' }, entry('queued'), { ttlSeconds: DAY, idempotency, tally: tally(['accepted']) });
          // the same request again finds the first record: nothing more is counted
          await expect(account.create(account.newId(users[i]), { status: 'queued', template: 'order_paid' }, entry('queued'), { ttlSeconds: DAY, idempotency, tally: tally(['accepted']) }))
            .resolves.toEqual({ created: false, existingId: recordId, fingerprint: 'f' });
        }
        // the first leaves queued (its conditional counter counts), the second had left it already
        await expect(account.move(ids[0], { from: ['queued', 'awaiting_receipt'], to: 'delivered', tally: tally([{ name: 'template.sent', onlyFrom: 'queued' }, 'delivered']) })).resolves.toBe(true);
        await account.move(ids[1], { from: ['queued'], to: 'awaiting_receipt', tally: tally(['template.sent'], AT + MINUTE) });
        await account.move(ids[1], { from: ['queued', 'awaiting_receipt'], to: 'delivered', tally: tally([{ name: 'template.sent', onlyFrom: 'queued' }, 'delivered'], AT + MINUTE) });
        // a move that does not happen counts nothing; a subject read from the record's field
        await expect(account.move(ids[2], { from: ['fallback_pending'], to: 'failed', tally: tally(['failed.x']) })).resolves.toBe(false);
        await account.move(ids[3], { from: ['queued'], to: 'failed', tally: tally(['failed.not_a_follower'], AT + HOUR, { field: 'template' }) });

        expect(summed(await account.readCounters('minute', HOUR0, HOUR0 + HOUR))).toEqual({
          [`${iso(HOUR0 + 17 * MINUTE)} order_paid accepted`]: 5,
          [`${iso(HOUR0 + 17 * MINUTE)} order_paid template.sent`]: 1,
          [`${iso(HOUR0 + 17 * MINUTE)} order_paid delivered`]: 1,
          [`${iso(HOUR0 + 18 * MINUTE)} order_paid template.sent`]: 1,
          [`${iso(HOUR0 + 18 * MINUTE)} order_paid delivered`]: 1,
        });
        // the range is [from, to): the buckets starting in it
        expect(summed(await account.readCounters('minute', AT + 30_000, AT + MINUTE + 30_000))).toEqual({
          [`${iso(HOUR0 + 18 * MINUTE)} order_paid template.sent`]: 1,
          [`${iso(HOUR0 + 18 * MINUTE)} order_paid delivered`]: 1,
        });
        expect(summed(await account.readCounters('minute', AT + HOUR - 30_000, AT + HOUR + 30_000))).toEqual({ [`${iso(HOUR0 + HOUR + 17 * MINUTE)} order_paid failed.not_a_follower`]: 1 });
        expect(summed(await account.readCounters('hour', HOUR0 - DAY * 1000, HOUR0 + 2 * HOUR))).toEqual({
          [`${iso(HOUR0)} order_paid accepted`]: 5,
          [`${iso(HOUR0)} order_paid template.sent`]: 2,
          [`${iso(HOUR0)} order_paid delivered`]: 2,
          [`${iso(HOUR0 + HOUR)} order_paid failed.not_a_follower`]: 1,
        });
        // a day read: the hour resolution of each UTC day summed into one bucket at the day's start
        const dayOf = (t: number) => Math.floor(t / (24 * HOUR)) * 24 * HOUR;
        expect(summed(await account.readCounters('day', dayOf(HOUR0) - 24 * HOUR, dayOf(HOUR0) + 48 * HOUR))).toEqual({
          [`${iso(dayOf(HOUR0))} order_paid accepted`]: 5,
          [`${iso(dayOf(HOUR0))} order_paid template.sent`]: 2,
          [`${iso(dayOf(HOUR0))} order_paid delivered`]: 2,
          // an hour later: the same day, or the next one when the hour crossed midnight UTC
          [`${iso(dayOf(AT + HOUR))} order_paid failed.not_a_follower`]: 1,
        });
        // another account's counters are its own
        await expect(store.forAccount(OTHER_APP).readCounters('hour', HOUR0, HOUR0 + 2 * HOUR)).resolves.toEqual([]);
      });

      it('counts every item of a batch (createMany, applyReceipts), each bucket summed once', async () => {
        const users = Array.from({ length: 8 }, (_, i) => `batch-user-${i}`);
        const ids = users.map((u) => account.newId(u));
        const created = (
          await account.createMany(
            ids.map((recordId, i) => ({
              id: recordId,
              fields: { status: 'awaiting_receipt', openid: users[i], template: i < 6 ? 'order_paid' : 'order_shipped' },
              history: entry('awaiting_receipt'),
              options: { ttlSeconds: DAY, tally: tally(['accepted'], AT, i < 6 ? 'order_paid' : 'order_shipped') },
            })),
          )
        ).map(settledValue);
        expect(created).toEqual(ids.map(() => ({ created: true })));
        // two more of user 0 (one shard: counted together), and one that exists already: not counted
        const more = [account.newId(users[0]), account.newId(users[0]), ids[0]];
        const again = await account.createMany(
          more.map((recordId) => ({ id: recordId, fields: { status: 'queued', openid: users[0], template: 'order_paid' }, history: entry('queued'), options: { ttlSeconds: DAY, tally: tally(['accepted']) } })),
        );
        expect(again.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
        for (const [i, recordId] of ids.entries()) await account.linkMsgid(`batch-${i}`, recordId, DAY);
        // the event keeps the field the tally's subject comes from, and one the records lack
        const event = { type: 'notification.delivered', at: AT + MINUTE, fields: ['status', 'template', 'reason'] };
        const move = { from: ['awaiting_receipt'], to: 'delivered', dueAt: null, event, tally: tally(['delivered', { name: 'template.sent', onlyFrom: 'queued' }], AT + MINUTE, { field: 'template' }) };
        const notes = { at: iso(AT + MINUTE), foreign: 'foreign', late: 'late' };
        // users 0-4 receive theirs; user 5's comes twice in the batch (the second changes nothing)
        const receipts = [0, 1, 2, 3, 4, 5, 5].map((i) => ({ user: users[i], pushKey: `batch-${i}`, seenSeconds: DAY, msgid: `batch-${i}`, status: 'success', stashSeconds: DAY, move, notes }));
        const applied = await Promise.all(account.applyReceipts(receipts));
        expect(applied.map((a) => a.result)).toEqual(['moved', 'moved', 'moved', 'moved', 'moved', 'moved', 'duplicate']);
        expect(summed(await account.readCounters('minute', HOUR0, HOUR0 + HOUR))).toEqual({
          [`${iso(HOUR0 + 17 * MINUTE)} order_paid accepted`]: 8,
          [`${iso(HOUR0 + 17 * MINUTE)} order_shipped accepted`]: 2,
          [`${iso(HOUR0 + 18 * MINUTE)} order_paid delivered`]: 6,
        });
        expect(summed(await account.readCounters('hour', HOUR0, HOUR0 + HOUR))).toEqual({
          [`${iso(HOUR0)} order_paid accepted`]: 8,
          [`${iso(HOUR0)} order_shipped accepted`]: 2,
          [`${iso(HOUR0)} order_paid delivered`]: 6,
        });
      });

      it("keeps the deployment's own counters apart", async () => {
        await store.counters.addCounters(AT, { answers: 2, 'le.5': 1, 'kind.text': 2 }, DAY);
        await store.counters.addCounters(AT + 1000, { answers: 1, 'le.5': 1 }, DAY);
        expect(summed(await store.counters.readCounters('minute', AT - MINUTE, AT + MINUTE))).toEqual({
          [`${iso(HOUR0 + 17 * MINUTE)}  answers`]: 3,
          [`${iso(HOUR0 + 17 * MINUTE)}  le.5`]: 2,
          [`${iso(HOUR0 + 17 * MINUTE)}  kind.text`]: 2,
        });
        await expect(account.readCounters('minute', AT - MINUTE, AT + MINUTE)).resolves.toEqual([]);
      });
    });
  });
}
