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

      it('moves when the status matches: sets fields and appends history in order', async () => {
        await createQueued('n1');
        const ok = await store.move('n1', {
          from: ['queued', 'fallback_pending'],
          to: 'awaiting_receipt',
          set: { msgid: '3147483654123456789' },
          history: entry('awaiting_receipt', 'sent'),
        });
        expect(ok).toBe(true);
        await store.move('n1', { from: ['awaiting_receipt'], to: 'delivered', history: entry('delivered', 'receipt') });
        await expect(store.get('n1')).resolves.toEqual({
          fields: { status: 'delivered', openid: 'o1', msgid: '3147483654123456789' },
          history: [entry('queued', 'accepted'), entry('awaiting_receipt', 'sent'), entry('delivered', 'receipt')],
        });
      });

      it('changes nothing when the status does not match', async () => {
        await createQueued('n1', 1000);
        const ok = await store.move('n1', {
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
        await expect(store.move('ghost', { from: ['queued'], to: 'failed', set: { a: 'b' }, dueAt: 5 })).resolves.toBe(false);
        await expect(store.get('ghost')).resolves.toBeNull();
        await expect(store.scheduleInfo()).resolves.toEqual({ size: 0, nextDueAt: null });
      });

      it('updates fields only when to equals the current status; to wins over set.status', async () => {
        await createQueued('n1');
        await expect(store.move('n1', { from: ['queued'], to: 'queued', set: { attempts: '1' } })).resolves.toBe(true);
        await store.move('n1', { from: ['queued'], to: 'failed', set: { status: 'delivered', reason: 'x' } });
        const record = await store.get('n1');
        expect(record?.fields).toEqual({ status: 'failed', openid: 'o1', attempts: '1', reason: 'x' });
        expect(record?.history).toHaveLength(1);
      });

      it('compares other fields too: expect must match ("" = absent or empty)', async () => {
        await createQueued('n1');
        const mark = () => store.move('n1', { from: ['queued'], to: 'queued', expect: { marker: '' }, set: { marker: 'm1' } });
        const both = await Promise.all([mark(), mark()]);
        expect(both.sort()).toEqual([false, true]);
        await expect(store.move('n1', { from: ['queued'], to: 'sent', expect: { marker: 'other' } })).resolves.toBe(false);
        await expect(store.move('n1', { from: ['queued'], to: 'queued', expect: { marker: 'm1' }, set: { marker: '' } })).resolves.toBe(true);
        await expect(mark()).resolves.toBe(true);
        expect((await store.get('n1'))?.fields.status).toBe('queued');
      });

      it('parks, unparks and releases as a reply in the same step as the move, and changes nothing when the CAS fails', async () => {
        await createQueued('n0');
        await createQueued('n1');
        await createQueued('n2');
        await expect(store.park('n0', { from: ['queued'], to: 'parked' }, { owner: 'o1', score: 2, ttlSeconds: DAY })).resolves.toBe(true);
        await expect(store.park('n1', { from: ['queued'], to: 'parked' }, { owner: 'o1', score: 1, ttlSeconds: DAY })).resolves.toBe(true);
        await expect(store.park('n2', { from: ['fallback_pending'], to: 'parked' }, { owner: 'o1', score: 0, ttlSeconds: DAY })).resolves.toBe(false);
        expect(await store.parkedFor('o1', 10)).toEqual(['n1', 'n0']);
        expect(await store.parkedFor('o1', 1)).toEqual(['n1']);

        const reply = { pushKey: 'msg:1', text: 'hello 你好', ttlMs: 60_000 };
        await expect(store.releaseAsReply('n1', { from: ['queued'], to: 'sent' }, 'o1', reply)).resolves.toBe(false);
        expect(await store.replyFor('msg:1')).toBeNull();
        await expect(store.releaseAsReply('n1', { from: ['parked'], to: 'sent' }, 'o1', reply)).resolves.toBe(true);
        expect(await store.replyFor('msg:1')).toBe('hello 你好');
        expect(await store.parkedFor('o1', 10)).toEqual(['n0']);

        await expect(store.move('n0', { from: ['queued'], to: 'pending' }, 'o1')).resolves.toBe(false);
        expect(await store.parkedFor('o1', 10)).toEqual(['n0']);
        await expect(store.move('n0', { from: ['parked'], to: 'pending' }, 'o1')).resolves.toBe(true);
        expect(await store.parkedFor('o1', 10)).toEqual([]);
      });

      it('takes flat values as they are: unpaired surrogates, brackets, newlines and empty strings', async () => {
        await createQueued('n1');
        const odd = 'a\ud800b ]] {"x":1} \n\t 你好';
        await expect(store.move('n1', { from: ['queued'], to: 'queued', set: { text: odd, gone: '' }, history: entry('queued', odd) })).resolves.toBe(true);
        const record = await store.get('n1');
        expect(record?.fields.gone ?? '').toBe('');
        expect(record?.history.at(-1)?.detail).toBe(odd);
      });

      it('appends history whatever the status, and is a no-op on a missing record', async () => {
        await createQueued('n1');
        await store.move('n1', { from: ['queued'], to: 'delivered' });
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
        await store.move('b', { from: ['queued'], to: 'queued', dueAt: 200 });
        await expect(store.scheduleInfo()).resolves.toEqual({ size: 2, nextDueAt: 200 });
        await store.move('b', { from: ['queued'], to: 'queued', dueAt: 400 });
        await expect(store.scheduleInfo()).resolves.toEqual({ size: 2, nextDueAt: 300 });
        await store.move('a', { from: ['queued'], to: 'queued' }); // undefined leaves it
        await expect(store.scheduleInfo()).resolves.toEqual({ size: 2, nextDueAt: 300 });
        await store.move('a', { from: ['queued'], to: 'delivered', dueAt: null });
        await store.move('b', { from: ['queued'], to: 'delivered', dueAt: null });
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

      it('sets a value only where none is', async () => {
        await expect(store.setValueIfAbsent('sig', 'h1', 60_000)).resolves.toBe(true);
        await expect(store.setValueIfAbsent('sig', 'h2', 60_000)).resolves.toBe(false);
        await expect(store.getValue('sig')).resolves.toBe('h1');
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

    describe('customer-service windows', () => {
      const now = Date.now();
      const later = now + 3_600_000;

      it('takes uses until exhausted, then expired past its time', async () => {
        await store.openWindow('u', 'w', 2, later, 60);
        await expect(store.getWindow('u', 'w')).resolves.toEqual({ remaining: 2, expiresAt: later });
        await expect(store.takeFromWindow('u', ['w'], now)).resolves.toEqual({ use: 'taken', kind: 'w' });
        await expect(store.takeFromWindow('u', ['w'], now)).resolves.toEqual({ use: 'taken', kind: 'w' });
        await expect(store.takeFromWindow('u', ['w'], now)).resolves.toEqual({ use: 'exhausted' });
        await expect(store.getWindow('u', 'w')).resolves.toEqual({ remaining: 0, expiresAt: later });
        await store.openWindow('u', 'w', 5, later, 60); // replaces
        await expect(store.takeFromWindow('u', ['w'], later)).resolves.toEqual({ use: 'expired' });
        await expect(store.getWindow('u', 'w')).resolves.toEqual({ remaining: 5, expiresAt: later });
      });

      it('reports unknown windows as unknown', async () => {
        await expect(store.takeFromWindow('u', ['nope', 'nada'], now)).resolves.toEqual({ use: 'unknown' });
        await expect(store.takeFromWindow('u', [], now)).resolves.toEqual({ use: 'unknown' });
        await expect(store.getWindow('u', 'nope')).resolves.toBeNull();
      });

      it('takes from the first usable window in order, per user', async () => {
        await store.openWindow('u', 'msg', 1, later, 60);
        await store.openWindow('u', 'follow', 1, later, 60);
        await expect(store.takeFromWindow('u', ['unknown', 'msg', 'follow'], now)).resolves.toEqual({ use: 'taken', kind: 'msg' });
        await expect(store.takeFromWindow('u', ['unknown', 'msg', 'follow'], now)).resolves.toEqual({ use: 'taken', kind: 'follow' });
        await expect(store.takeFromWindow('u', ['msg', 'follow'], now)).resolves.toEqual({ use: 'exhausted' });
        await store.openWindow('u', 'old', 3, now - 1, 60);
        await store.openWindow('u', 'fresh', 1, later, 60);
        await expect(store.takeFromWindow('u', ['old', 'fresh'], now)).resolves.toEqual({ use: 'taken', kind: 'fresh' });
        // one expired and one exhausted: still exhausted (a window is open, just used up)
        await expect(store.takeFromWindow('u', ['old', 'fresh'], now)).resolves.toEqual({ use: 'exhausted' });
        await expect(store.takeFromWindow('u', ['old', 'unknown'], now)).resolves.toEqual({ use: 'expired' });
      });

      it('gives a message back, and ignores a return to an unknown window', async () => {
        await store.openWindow('u', 'w', 1, later, 60);
        await store.takeFromWindow('u', ['w'], now);
        await store.giveBackToWindow('u', 'w');
        await expect(store.getWindow('u', 'w')).resolves.toEqual({ remaining: 1, expiresAt: later });
        await expect(store.takeFromWindow('u', ['w'], now)).resolves.toEqual({ use: 'taken', kind: 'w' });
        await store.giveBackToWindow('u', 'ghost');
        await expect(store.getWindow('u', 'ghost')).resolves.toBeNull();
      });

      it('closes windows as expired now, also never-opened ones', async () => {
        await store.openWindow('u', 'msg', 5, later, 60);
        await store.openWindow('u', 'follow', 3, later, 60);
        await store.closeWindows('u', ['msg', 'follow', 'ghost'], now, 60);
        await expect(store.getWindow('u', 'msg')).resolves.toEqual({ remaining: 5, expiresAt: now });
        await expect(store.takeFromWindow('u', ['msg', 'follow'], now)).resolves.toEqual({ use: 'expired' });
        await expect(store.takeFromWindow('u', ['ghost'], now)).resolves.toEqual({ use: 'expired' });
        await expect(store.takeFromWindow('u', ['never'], now)).resolves.toEqual({ use: 'unknown' });
        await store.openWindow('u', 'msg', 5, later, 60);
        await expect(store.takeFromWindow('u', ['msg'], now)).resolves.toEqual({ use: 'taken', kind: 'msg' });
      });
    });

    describe('parked lists', () => {
      it('orders by score then id bytes, limits, re-parks with a new score and forgets', async () => {
        const park = async (id: string, score: number) => {
          if (!(await store.get(id))) await createQueued(id);
          await store.move(id, { from: ['queued', 'parked'], to: 'queued' });
          return store.park(id, { from: ['queued'], to: 'parked' }, { owner: 'o1', score, ttlSeconds: DAY });
        };
        for (const [id, score] of [['c', 2], ['b', 2], ['z', 1], ['a', 3], ['B', 2]] as const) await park(id, score); // bytes: 'B' < 'b'
        await expect(store.parkedFor('o1', 10)).resolves.toEqual(['z', 'B', 'b', 'c', 'a']);
        await expect(store.parkedFor('o1', 2)).resolves.toEqual(['z', 'B']);
        await park('z', 4);
        await store.forgetParked('o1', 'b');
        await store.forgetParked('o1', 'missing');
        await expect(store.parkedFor('o1', 10)).resolves.toEqual(['B', 'c', 'a', 'z']);
        await expect(store.parkedFor('o1', 0)).resolves.toEqual([]);
        await expect(store.parkedFor('nobody', 10)).resolves.toEqual([]);
      });
    });

    describe('push memory', () => {
      it('sees a push first once, and again after forgetting it; keeps the bot reply for its time', async () => {
        await expect(store.firstSeenPush('msg:1', DAY)).resolves.toBe(true);
        await expect(store.firstSeenPush('msg:1', DAY)).resolves.toBe(false);
        await store.forgetPush('msg:1');
        await expect(store.firstSeenPush('msg:1', DAY)).resolves.toBe(true);
        await expect(store.botReplyFor('msg:1')).resolves.toBeNull();
        await store.rememberBotReply('msg:1', '<xml>hi</xml>', 60_000);
        await expect(store.botReplyFor('msg:1')).resolves.toBe('<xml>hi</xml>');
        await expect(store.replyFor('msg:1')).resolves.toBeNull();
      });

      it('tells a claimed push from a handled one; renews only a claim still held', async () => {
        await expect(store.pushState('msg:2')).resolves.toBeNull();
        await store.renewPushClaim('msg:2', DAY); // nothing held: nothing created
        await expect(store.pushState('msg:2')).resolves.toBeNull();
        await expect(store.firstSeenPush('msg:2', DAY)).resolves.toBe(true);
        await expect(store.pushState('msg:2')).resolves.toBe('claimed');
        await store.renewPushClaim('msg:2', DAY);
        await expect(store.pushState('msg:2')).resolves.toBe('claimed');
        await store.keepPushSeen('msg:2', DAY);
        await store.renewPushClaim('msg:2', DAY);
        await expect(store.pushState('msg:2')).resolves.toBe('handled');
        await expect(store.firstSeenPush('msg:2', DAY)).resolves.toBe(false);
      });
    });

    it('pings', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('expires what has a TTL (one real wait of ~1.1 s)', async () => {
      const now = Date.now();
      await store.create('r', { status: 'queued' }, entry('queued'), { ttlSeconds: 1, dueAt: 0, idempotency: { key: 'k', fingerprint: 'f' } });
      // changes after creation keep the retention
      await store.move('r', { from: ['queued'], to: 'awaiting_receipt', set: { a: '1' }, history: entry('awaiting_receipt') });
      await store.appendHistory('r', entry('awaiting_receipt', 'note'));
      await createQueued('keeper', 0);
      await store.linkMsgid('m-linked', 'r', 1);
      await store.resolveMsgid('m-early', 'success', 1);
      await store.firstSeen('seen', 1);
      await store.setValue('v', 'x', 300);
      await store.setValue('forever', 'y');
      await store.acquireLock('lock', 'i1', 300);
      await store.openWindow('u', 'w', 1, now, 1);
      await store.create('p', { status: 'queued' }, entry('queued'), { ttlSeconds: DAY });
      await store.park('p', { from: ['queued'], to: 'parked' }, { owner: 'o-ttl', score: 1, ttlSeconds: 1 });
      await store.firstSeenPush('push-ttl', 1);
      await store.rememberBotReply('push-ttl', 'x', 300);

      await expect(store.get('r')).resolves.toMatchObject({ fields: { status: 'awaiting_receipt' } });
      await expect(store.getValue('v')).resolves.toBe('x');
      await expect(store.getWindow('u', 'w')).resolves.toEqual({ remaining: 1, expiresAt: now });
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
      await expect(store.getWindow('u', 'w')).resolves.toBeNull();
      await expect(store.takeFromWindow('u', ['w'], Date.now())).resolves.toEqual({ use: 'unknown' });
      await expect(store.parkedFor('o-ttl', 10)).resolves.toEqual([]);
      await expect(store.firstSeenPush('push-ttl', DAY)).resolves.toBe(true);
      await expect(store.botReplyFor('push-ttl')).resolves.toBeNull();
    });
  });
}
