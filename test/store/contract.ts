import type { HistoryEntry, Store } from '../../src/store/store';

export interface StoreHandle {
  store: Store;
  cleanup(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const entry = (status: string, detail = ''): HistoryEntry => ({ at: '2024-01-01T00:00:00.000Z', status, detail });
const DAY = 86_400;

/**
 * The behaviour every Store must have. Each test gets a fresh store from `makeStore`; TTLs are
 * checked with real time in one test that waits about a second once.
 */
export function describeStoreContract(name: string, makeStore: () => Promise<StoreHandle>): void {
  describe(`Store contract: ${name}`, () => {
    let handle: StoreHandle;
    let store: Store;
    beforeEach(async () => {
      handle = await makeStore();
      store = handle.store;
    });
    afterEach(async () => {
      await handle.cleanup();
    });

    const createQueued = (id: string, dueAt?: number) =>
      store.create(id, { status: 'queued', openid: 'o1' }, entry('queued', 'accepted'), { ttlSeconds: DAY, dueAt });

    describe('records', () => {
      it('creates a record with its fields and first history entry', async () => {
        await expect(createQueued('n1')).resolves.toEqual({ created: true });
        await expect(store.get('n1')).resolves.toEqual({
          fields: { status: 'queued', openid: 'o1' },
          history: [entry('queued', 'accepted')],
        });
        await expect(store.get('missing')).resolves.toBeNull();
      });

      it('refuses fields without a status and an id that exists', async () => {
        await expect(store.create('n1', {}, entry('x'), { ttlSeconds: DAY })).rejects.toThrow(/status/);
        await createQueued('n1');
        await expect(createQueued('n1')).rejects.toThrow(/already exists/);
        await expect(store.get('n1')).resolves.toMatchObject({ history: [entry('queued', 'accepted')] });
      });

      it('transitions when the status matches: sets fields and appends history in order', async () => {
        await createQueued('n1');
        const ok = await store.transition('n1', {
          from: ['queued', 'fallback_pending'],
          to: 'awaiting_receipt',
          set: { msgid: '3147483654123456789' },
          history: entry('awaiting_receipt', 'sent'),
        });
        expect(ok).toBe(true);
        await store.transition('n1', { from: ['awaiting_receipt'], to: 'delivered', history: entry('delivered', 'receipt') });
        await expect(store.get('n1')).resolves.toEqual({
          fields: { status: 'delivered', openid: 'o1', msgid: '3147483654123456789' },
          history: [entry('queued', 'accepted'), entry('awaiting_receipt', 'sent'), entry('delivered', 'receipt')],
        });
      });

      it('changes nothing when the status does not match', async () => {
        await createQueued('n1', 1000);
        const ok = await store.transition('n1', {
          from: ['awaiting_receipt'],
          to: 'delivered',
          set: { channel: 'template' },
          history: entry('delivered'),
          dueAt: null,
        });
        expect(ok).toBe(false);
        await expect(store.get('n1')).resolves.toEqual({
          fields: { status: 'queued', openid: 'o1' },
          history: [entry('queued', 'accepted')],
        });
        await expect(store.scheduleInfo()).resolves.toEqual({ size: 1, nextDueAt: 1000 });
      });

      it('returns false for a missing record and does not create it', async () => {
        await expect(store.transition('ghost', { from: ['queued'], to: 'failed', set: { a: 'b' }, dueAt: 5 })).resolves.toBe(false);
        await expect(store.get('ghost')).resolves.toBeNull();
        await expect(store.scheduleInfo()).resolves.toEqual({ size: 0, nextDueAt: null });
      });

      it('updates fields only when to equals the current status; to wins over set.status', async () => {
        await createQueued('n1');
        await expect(store.transition('n1', { from: ['queued'], to: 'queued', set: { attempts: '1' } })).resolves.toBe(true);
        await store.transition('n1', { from: ['queued'], to: 'failed', set: { status: 'delivered', reason: 'x' } });
        const record = await store.get('n1');
        expect(record?.fields).toEqual({ status: 'failed', openid: 'o1', attempts: '1', reason: 'x' });
        expect(record?.history).toHaveLength(1);
      });

      it('compares other fields too: expect must match ("" = absent or empty)', async () => {
        await createQueued('n1');
        const mark = () => store.transition('n1', { from: ['queued'], to: 'queued', expect: { marker: '' }, set: { marker: 'm1' } });
        const both = await Promise.all([mark(), mark()]);
        expect(both.sort()).toEqual([false, true]);
        await expect(store.transition('n1', { from: ['queued'], to: 'sent', expect: { marker: 'other' } })).resolves.toBe(false);
        await expect(store.transition('n1', { from: ['queued'], to: 'queued', expect: { marker: 'm1' }, set: { marker: '' } })).resolves.toBe(true);
        await expect(mark()).resolves.toBe(true);
        expect((await store.get('n1'))?.fields.status).toBe('queued');
      });

      it('changes set membership and a value in the same step, and nothing when the CAS fails', async () => {
        await createQueued('n1');
        await store.addToSet('parked:o1', 'n0', 1, DAY);
        const ok = await store.transition('n1', {
          from: ['queued'],
          to: 'parked',
          addToSet: { key: 'parked:o1', member: 'n1', score: 1_764_000_000_123, ttlSeconds: DAY },
          removeFromSet: { key: 'parked:o1', member: 'n0' },
          setValue: { key: 'reply:x', value: 'hello 你好', ttlMs: 60_000 },
        });
        expect(ok).toBe(true);
        expect(await store.rangeOfSet('parked:o1', 10)).toEqual(['n1']);
        expect(await store.getValue('reply:x')).toBe('hello 你好');
        const refused = await store.transition('n1', {
          from: ['queued'],
          to: 'other',
          removeFromSet: { key: 'parked:o1', member: 'n1' },
          setValue: { key: 'reply:y', value: 'no', ttlMs: 60_000 },
        });
        expect(refused).toBe(false);
        expect(await store.rangeOfSet('parked:o1', 10)).toEqual(['n1']);
        expect(await store.getValue('reply:y')).toBeNull();
      });

      it('appends history whatever the status, and is a no-op on a missing record', async () => {
        await createQueued('n1');
        await store.transition('n1', { from: ['queued'], to: 'delivered' });
        await store.appendHistory('n1', entry('delivered', 'late receipt'));
        await store.appendHistory('ghost', entry('delivered', 'late receipt'));
        await expect(store.get('n1')).resolves.toMatchObject({
          fields: { status: 'delivered' },
          history: [entry('queued', 'accepted'), entry('delivered', 'late receipt')],
        });
        await expect(store.get('ghost')).resolves.toBeNull();
      });

      it('returns copies: mutating a result does not change the store', async () => {
        await createQueued('n1');
        const record = await store.get('n1');
        record!.fields.status = 'mutated';
        record!.history.push(entry('x'));
        await expect(store.get('n1')).resolves.toMatchObject({ fields: { status: 'queued' }, history: [entry('queued', 'accepted')] });
      });
    });

    describe('idempotency', () => {
      it('returns the existing id and fingerprint for a used key and creates a new record for a new key', async () => {
        const opts = (key: string, fingerprint: string) => ({ ttlSeconds: DAY, dueAt: 10, idempotency: { key, fingerprint } });
        await expect(store.create('n1', { status: 'queued' }, entry('queued'), opts('k1', 'fp-a'))).resolves.toEqual({ created: true });
        await expect(store.create('n2', { status: 'queued' }, entry('queued'), opts('k1', 'fp-b'))).resolves.toEqual({
          created: false,
          existingId: 'n1',
          fingerprint: 'fp-a',
        });
        await expect(store.get('n2')).resolves.toBeNull();
        await expect(store.scheduleInfo()).resolves.toEqual({ size: 1, nextDueAt: 10 });
        // a retry with the same id is answered the same way, not as a duplicate id
        await expect(store.create('n1', { status: 'queued' }, entry('queued'), opts('k1', 'fp-a'))).resolves.toMatchObject({
          created: false,
          existingId: 'n1',
        });
        await expect(store.create('n3', { status: 'queued' }, entry('queued'), opts('k2', 'fp-a'))).resolves.toEqual({ created: true });
        await expect(store.get('n3')).resolves.not.toBeNull();
      });
    });

    describe('due schedule', () => {
      it('puts, moves and removes records through create and transition', async () => {
        await createQueued('a', 300);
        await createQueued('b');
        await expect(store.scheduleInfo()).resolves.toEqual({ size: 1, nextDueAt: 300 });
        await store.transition('b', { from: ['queued'], to: 'queued', dueAt: 200 });
        await expect(store.scheduleInfo()).resolves.toEqual({ size: 2, nextDueAt: 200 });
        await store.transition('b', { from: ['queued'], to: 'queued', dueAt: 400 });
        await expect(store.scheduleInfo()).resolves.toEqual({ size: 2, nextDueAt: 300 });
        await store.transition('a', { from: ['queued'], to: 'queued' }); // undefined leaves it
        await expect(store.scheduleInfo()).resolves.toEqual({ size: 2, nextDueAt: 300 });
        await store.transition('a', { from: ['queued'], to: 'delivered', dueAt: null });
        await store.transition('b', { from: ['queued'], to: 'delivered', dueAt: null });
        await expect(store.scheduleInfo()).resolves.toEqual({ size: 0, nextDueAt: null });
      });

      it('claims due records oldest first (ties by id), up to the limit, not the ones due later', async () => {
        await createQueued('late', 5000);
        await createQueued('c', 200);
        await createQueued('b', 100);
        await createQueued('a', 200);
        await createQueued('edge', 1000);
        await expect(store.claimDue(1000, 10_000, 3)).resolves.toEqual(['b', 'a', 'c']);
        await expect(store.claimDue(1000, 10_000, 3)).resolves.toEqual(['edge']);
        await expect(store.claimDue(1000, 10_000, 0)).resolves.toEqual([]);
      });

      it('leases a claim: not claimed again until the lease passes, claimed again after', async () => {
        await createQueued('n1', 100);
        await expect(store.claimDue(1000, 500, 10)).resolves.toEqual(['n1']);
        await expect(store.scheduleInfo()).resolves.toEqual({ size: 1, nextDueAt: 1500 });
        await expect(store.claimDue(1499, 500, 10)).resolves.toEqual([]);
        await expect(store.claimDue(1500, 500, 10)).resolves.toEqual(['n1']);
        await expect(store.claimDue(1000, 0, 10)).rejects.toThrow(RangeError);
      });

      it('never hands the same id to two callers claiming at once', async () => {
        const ids = Array.from({ length: 30 }, (_, i) => `n${String(i).padStart(2, '0')}`);
        await Promise.all(ids.map((id, i) => createQueued(id, i)));
        const claims = await Promise.all([0, 1, 2, 3, 4].map(() => store.claimDue(1000, 60_000, 7)));
        const all = claims.flat();
        expect(new Set(all).size).toBe(all.length);
        expect(all.sort()).toEqual(ids);
      });
    });

    describe('msgid correlation', () => {
      it('resolves a linked msgid to its id; link returns null when nothing arrived early', async () => {
        await expect(store.linkMsgid('m1', 'n1', DAY)).resolves.toBeNull();
        await expect(store.resolveMsgid('m1', 'success', DAY)).resolves.toBe('n1');
        await expect(store.resolveMsgid('m1', 'success', DAY)).resolves.toBe('n1'); // duplicate receipt
        await expect(store.linkMsgid('m1', 'n1', DAY)).resolves.toBeNull(); // nothing was stashed
      });

      it('stashes the first early status and hands it over exactly once', async () => {
        await expect(store.resolveMsgid('m2', 'failed:user block', DAY)).resolves.toBeNull();
        await expect(store.resolveMsgid('m2', 'success', DAY)).resolves.toBeNull(); // duplicate: not stashed
        await expect(store.linkMsgid('m2', 'n2', DAY)).resolves.toBe('failed:user block');
        await expect(store.linkMsgid('m2', 'n2', DAY)).resolves.toBeNull();
        await expect(store.resolveMsgid('m2', 'success', DAY)).resolves.toBe('n2');
        await expect(store.linkMsgid('m3', 'n3', DAY)).resolves.toBeNull(); // other msgids unaffected
      });
    });

    describe('de-duplication, values and locks', () => {
      it('sees a key first once, and again after forget', async () => {
        await expect(store.firstSeen('push:1', DAY)).resolves.toBe(true);
        await expect(store.firstSeen('push:1', DAY)).resolves.toBe(false);
        await expect(store.firstSeen('push:2', DAY)).resolves.toBe(true);
        await store.forget('push:1');
        await expect(store.firstSeen('push:1', DAY)).resolves.toBe(true);
        await store.forget('never-seen');
      });

      it('gets, sets and conditionally deletes values', async () => {
        await expect(store.getValue('token')).resolves.toBeNull();
        await store.setValue('token', 'T1', 60_000);
        await store.setValue('token', 'T2');
        await expect(store.getValue('token')).resolves.toBe('T2');
        await expect(store.deleteValueIf('token', 'T1')).resolves.toBe(false);
        await expect(store.getValue('token')).resolves.toBe('T2');
        await expect(store.deleteValueIf('token', 'T2')).resolves.toBe(true);
        await expect(store.getValue('token')).resolves.toBeNull();
        await expect(store.deleteValueIf('token', 'T2')).resolves.toBe(false);
      });

      it('locks: acquire, contention, release only by the owner', async () => {
        await expect(store.acquireLock('refresh', 'i1', 60_000)).resolves.toBe(true);
        await expect(store.acquireLock('refresh', 'i2', 60_000)).resolves.toBe(false);
        await expect(store.acquireLock('other', 'i2', 60_000)).resolves.toBe(true);
        await store.releaseLock('refresh', 'i2'); // not the owner: no-op
        await expect(store.acquireLock('refresh', 'i2', 60_000)).resolves.toBe(false);
        await store.releaseLock('refresh', 'i1');
        await expect(store.acquireLock('refresh', 'i2', 60_000)).resolves.toBe(true);
        await store.releaseLock('nobody', 'i1');
      });
    });

    describe('hashes and counters', () => {
      it('merges fields and increments counters', async () => {
        await expect(store.getHash('h')).resolves.toEqual({});
        await store.setHash('h', { a: '1', b: '2' });
        await store.setHash('h', { b: '3', c: '4' });
        await expect(store.getHash('h')).resolves.toEqual({ a: '1', b: '3', c: '4' });
        await expect(store.incrementHash('stats', 'sent')).resolves.toBe(1);
        await expect(store.incrementHash('stats', 'sent', 5)).resolves.toBe(6);
        await expect(store.incrementHash('stats', 'sent', -2)).resolves.toBe(4);
        await expect(store.incrementHash('stats', 'failed', 2)).resolves.toBe(2);
        await expect(store.getHash('stats')).resolves.toEqual({ sent: '4', failed: '2' });
      });
    });

    describe('allowances', () => {
      const now = Date.now();
      const later = now + 3_600_000;

      it('takes uses until exhausted, then expired past its time', async () => {
        await store.openAllowance('w', 2, later, 60);
        await expect(store.getAllowance('w')).resolves.toEqual({ remaining: 2, expiresAt: later });
        await expect(store.takeAllowance(['w'], now)).resolves.toEqual({ use: 'taken', key: 'w' });
        await expect(store.takeAllowance(['w'], now)).resolves.toEqual({ use: 'taken', key: 'w' });
        await expect(store.takeAllowance(['w'], now)).resolves.toEqual({ use: 'exhausted' });
        await expect(store.getAllowance('w')).resolves.toEqual({ remaining: 0, expiresAt: later });
        await store.openAllowance('w', 5, later, 60); // replaces
        await expect(store.takeAllowance(['w'], later)).resolves.toEqual({ use: 'expired' });
        await expect(store.getAllowance('w')).resolves.toEqual({ remaining: 5, expiresAt: later });
      });

      it('reports unknown keys as unknown', async () => {
        await expect(store.takeAllowance(['nope', 'nada'], now)).resolves.toEqual({ use: 'unknown' });
        await expect(store.takeAllowance([], now)).resolves.toEqual({ use: 'unknown' });
        await expect(store.getAllowance('nope')).resolves.toBeNull();
      });

      it('takes from the first usable key in order', async () => {
        await store.openAllowance('msg', 1, later, 60);
        await store.openAllowance('follow', 1, later, 60);
        await expect(store.takeAllowance(['unknown', 'msg', 'follow'], now)).resolves.toEqual({ use: 'taken', key: 'msg' });
        await expect(store.takeAllowance(['unknown', 'msg', 'follow'], now)).resolves.toEqual({ use: 'taken', key: 'follow' });
        await expect(store.takeAllowance(['msg', 'follow'], now)).resolves.toEqual({ use: 'exhausted' });
        await store.openAllowance('old', 3, now - 1, 60);
        await store.openAllowance('fresh', 1, later, 60);
        await expect(store.takeAllowance(['old', 'fresh'], now)).resolves.toEqual({ use: 'taken', key: 'fresh' });
        // one expired and one exhausted: still exhausted (a window is open, just used up)
        await expect(store.takeAllowance(['old', 'fresh'], now)).resolves.toEqual({ use: 'exhausted' });
        await expect(store.takeAllowance(['old', 'unknown'], now)).resolves.toEqual({ use: 'expired' });
      });

      it('gives a use back, and ignores a return to an unknown key', async () => {
        await store.openAllowance('w', 1, later, 60);
        await store.takeAllowance(['w'], now);
        await store.returnAllowance('w');
        await expect(store.getAllowance('w')).resolves.toEqual({ remaining: 1, expiresAt: later });
        await expect(store.takeAllowance(['w'], now)).resolves.toEqual({ use: 'taken', key: 'w' });
        await store.returnAllowance('ghost');
        await expect(store.getAllowance('ghost')).resolves.toBeNull();
      });

      it('closes allowances as expired now, also never-opened ones', async () => {
        await store.openAllowance('msg', 5, later, 60);
        await store.openAllowance('follow', 3, later, 60);
        await store.closeAllowances(['msg', 'follow', 'ghost'], now, 60);
        await expect(store.getAllowance('msg')).resolves.toEqual({ remaining: 5, expiresAt: now });
        await expect(store.takeAllowance(['msg', 'follow'], now)).resolves.toEqual({ use: 'expired' });
        await expect(store.takeAllowance(['ghost'], now)).resolves.toEqual({ use: 'expired' });
        await expect(store.takeAllowance(['never'], now)).resolves.toEqual({ use: 'unknown' });
        await store.openAllowance('msg', 5, later, 60);
        await expect(store.takeAllowance(['msg'], now)).resolves.toEqual({ use: 'taken', key: 'msg' });
      });
    });

    describe('ordered sets', () => {
      it('orders by score then member, limits, updates scores and removes', async () => {
        await store.addToSet('parked', 'c', 2, DAY);
        await store.addToSet('parked', 'b', 2, DAY);
        await store.addToSet('parked', 'z', 1, DAY);
        await store.addToSet('parked', 'a', 3, DAY);
        await store.addToSet('parked', 'B', 2, DAY); // bytes: 'B' < 'b'
        await expect(store.rangeOfSet('parked', 10)).resolves.toEqual(['z', 'B', 'b', 'c', 'a']);
        await expect(store.rangeOfSet('parked', 2)).resolves.toEqual(['z', 'B']);
        await store.addToSet('parked', 'z', 4, DAY);
        await store.removeFromSet('parked', 'b');
        await store.removeFromSet('parked', 'missing');
        await expect(store.rangeOfSet('parked', 10)).resolves.toEqual(['B', 'c', 'a', 'z']);
        await expect(store.rangeOfSet('parked', 0)).resolves.toEqual([]);
        await expect(store.rangeOfSet('empty', 10)).resolves.toEqual([]);
        for (const m of ['B', 'c', 'a', 'z']) await store.removeFromSet('parked', m);
        await expect(store.rangeOfSet('parked', 10)).resolves.toEqual([]);
      });
    });

    it('pings', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('expires what has a TTL (one real wait of ~1.1 s)', async () => {
      const now = Date.now();
      await store.create('r', { status: 'queued' }, entry('queued'), { ttlSeconds: 1, dueAt: 0, idempotency: { key: 'k', fingerprint: 'f' } });
      // changes after creation keep the retention
      await store.transition('r', { from: ['queued'], to: 'awaiting_receipt', set: { a: '1' }, history: entry('awaiting_receipt') });
      await store.appendHistory('r', entry('awaiting_receipt', 'note'));
      await createQueued('keeper', 0);
      await store.linkMsgid('m-linked', 'r', 1);
      await store.resolveMsgid('m-early', 'success', 1);
      await store.firstSeen('seen', 1);
      await store.setValue('v', 'x', 300);
      await store.setValue('forever', 'y');
      await store.acquireLock('lock', 'i1', 300);
      await store.openAllowance('w', 1, now, 1);
      await store.addToSet('s', 'm', 1, 1);

      await expect(store.get('r')).resolves.toMatchObject({ fields: { status: 'awaiting_receipt' } });
      await expect(store.getValue('v')).resolves.toBe('x');
      await expect(store.getAllowance('w')).resolves.toEqual({ remaining: 1, expiresAt: now });
      await sleep(1100);

      await expect(store.get('r')).resolves.toBeNull();
      await store.appendHistory('r', entry('x')); // must not resurrect the history
      await expect(store.get('r')).resolves.toBeNull();
      // the expired record leaves the schedule when claimed; the live one is claimed
      await expect(store.claimDue(now + 5000, 1000, 10)).resolves.toEqual(['keeper']);
      await expect(store.scheduleInfo()).resolves.toEqual({ size: 1, nextDueAt: now + 6000 });
      await expect(store.create('r2', { status: 'queued' }, entry('queued'), { ttlSeconds: DAY, idempotency: { key: 'k', fingerprint: 'g' } }))
        .resolves.toEqual({ created: true });
      await expect(store.resolveMsgid('m-linked', 'success', DAY)).resolves.toBeNull();
      await expect(store.linkMsgid('m-early', 'n', DAY)).resolves.toBeNull();
      await expect(store.firstSeen('seen', DAY)).resolves.toBe(true);
      await expect(store.getValue('v')).resolves.toBeNull();
      await expect(store.getValue('forever')).resolves.toBe('y');
      await expect(store.acquireLock('lock', 'i2', 1000)).resolves.toBe(true);
      await expect(store.getAllowance('w')).resolves.toBeNull();
      await expect(store.takeAllowance(['w'], Date.now())).resolves.toEqual({ use: 'unknown' });
      await expect(store.rangeOfSet('s', 10)).resolves.toEqual([]);
    });
  });
}
