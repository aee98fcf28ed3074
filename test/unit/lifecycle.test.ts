import { Lifecycle, MOVES, moveRecording, STATUSES, TERMINAL, type MoveName, type MoveOptions, type Status } from '../../src/delivery/lifecycle';
import { MemoryStore } from '../../src/store/memory-store';
import { capturedLogger } from '../helpers/logs';

const T0 = 1_700_000_000_000;
const OPENID = 'oUSER_lifecycle_0001';
const RETENTION_SECONDS = 86_400;
const MOVE_NAMES = Object.keys(MOVES) as MoveName[];

/** A lifecycle on a fresh in-memory store, with a fixed clock and a metrics spy. */
function rig() {
  const now = () => T0;
  const all = new MemoryStore({ now });
  const store = all.forAccount('wxlifecycle000001');
  const { log, text } = capturedLogger();
  const metrics = { statusChanged: jest.fn<void, [string]>() };
  const lifecycle = new Lifecycle(store, log, metrics, RETENTION_SECONDS, moveRecording(RETENTION_SECONDS), now);
  /** A notice created directly in `status` (due at T0), as the subject a caller would pass. */
  async function notice(status: Status, createdAt = T0) {
    const id = store.newId(OPENID);
    await store.create(id, { status, openid: OPENID, createdAt: String(createdAt) }, { at: new Date(createdAt).toISOString(), status, detail: 'created' }, { ttlSeconds: RETENTION_SECONDS, dueAt: T0 });
    return { id, openid: OPENID, status, createdAt };
  }
  return { store, all, lifecycle, metrics, logs: text, notice };
}

/** What every move needs besides the change (releaseAsReply needs the reply it becomes). */
const optionsFor = (name: MoveName): MoveOptions => (name === 'releaseAsReply' ? { reply: { key: 'reply:push-1', text: 'the text', ttlMs: 60_000 } } : {});

const allowedFrom = (name: MoveName): readonly Status[] => MOVES[name].from;

describe('the lifecycle table: every move from every status', () => {
  const cases = MOVE_NAMES.flatMap((name) => STATUSES.map((status) => [name, status, allowedFrom(name).includes(status)] as const));

  it.each(cases)('%s from %s: allowed = %s', async (name, status, allowed) => {
    const { store, all, lifecycle, notice } = rig();
    const n = await notice(status);
    const before = await store.get(n.id);

    const moved = await lifecycle.move(name, n, { detail: `move ${name}`, set: { mark: name }, dueAt: T0 + 5000 }, optionsFor(name));

    const after = await store.get(n.id);
    expect(moved).toBe(allowed);
    await expect(lifecycle.parkedFor(OPENID, 10)).resolves.toEqual(name === 'park' && allowed ? [n.id] : []);
    await expect(store.replyFor(OPENID, 'reply:push-1')).resolves.toBe(name === 'releaseAsReply' && allowed ? 'the text' : null);
    if (!allowed) {
      expect(after).toEqual(before);
      await expect(all.scheduleInfo()).resolves.toEqual({ size: 1, nextDueAt: T0 });
      return;
    }
    const to = MOVES[name].to === 'same' ? status : MOVES[name].to;
    expect(after?.fields).toMatchObject({ status: to, mark: name });
    expect(after?.history).toHaveLength(2);
    expect(after?.history[1]).toEqual({ at: new Date(T0).toISOString(), status: to, detail: `move ${name}` });
    await expect(all.scheduleInfo()).resolves.toEqual({ size: 1, nextDueAt: T0 + 5000 });
  });

  it('the table allows exactly these moves (a change to it is a change of behaviour)', () => {
    const open = ['queued', 'awaiting_receipt', 'fallback_pending', 'awaiting_interaction'];
    expect(Object.fromEntries(MOVE_NAMES.map((name) => [name, [[...MOVES[name].from].sort(), MOVES[name].to]]))).toEqual({
      sent: [['queued'], 'awaiting_receipt'],
      delivered: [['awaiting_receipt', 'queued'], 'delivered'],
      templateFailed: [['awaiting_receipt', 'queued'], 'fallback_pending'],
      callStarted: [['fallback_pending'], 'same'],
      fallbackSent: [['fallback_pending'], 'fallback_sent'],
      park: [['fallback_pending'], 'awaiting_interaction'],
      release: [['awaiting_interaction'], 'fallback_pending'],
      releaseAsReply: [['awaiting_interaction'], 'fallback_sent'],
      expire: [['awaiting_interaction'], 'failed'],
      fail: [[...open].sort(), 'failed'],
      retryLater: [[...open].sort(), 'same'],
      unschedule: [['delivered', 'failed', 'fallback_sent'], 'same'],
    });
  });

  it('covers every status: each open status has a way out, terminal ones can only be taken off the schedule', () => {
    for (const status of STATUSES) {
      const out = MOVE_NAMES.filter((name) => allowedFrom(name).includes(status) && MOVES[name].to !== 'same');
      if (TERMINAL.has(status)) {
        expect(out).toEqual([]);
        expect(MOVE_NAMES.filter((name) => allowedFrom(name).includes(status))).toEqual(['unschedule']);
      } else {
        expect(out).toContain('fail');
      }
    }
  });
});

describe('Lifecycle.move', () => {
  it('a "same" move without the read status finds the status the notice has', async () => {
    const { store, lifecycle, notice } = rig();
    const n = await notice('awaiting_interaction');
    await expect(lifecycle.move('retryLater', { id: n.id, openid: OPENID }, { detail: 'later', dueAt: T0 + 1 })).resolves.toBe(true);
    expect((await store.get(n.id))?.fields.status).toBe('awaiting_interaction');
    expect((await store.get(n.id))?.history.at(-1)).toMatchObject({ status: 'awaiting_interaction', detail: 'later' });
  });

  it('a "same" move with a stale read status is refused (the notice moved meanwhile)', async () => {
    const { store, lifecycle, notice } = rig();
    const n = await notice('fallback_pending');
    const before = await store.get(n.id);
    await expect(lifecycle.move('retryLater', { ...n, status: 'queued' }, { detail: 'later', dueAt: T0 + 1 })).resolves.toBe(false);
    expect(await store.get(n.id)).toEqual(before);
  });

  it('`from` narrows the table: allowed only where both agree', async () => {
    const { store, lifecycle, notice } = rig();
    const queued = await notice('queued');
    const pending = await notice('fallback_pending');
    await expect(lifecycle.move('fail', queued, { detail: 'no' }, { from: ['fallback_pending'] })).resolves.toBe(false);
    expect((await store.get(queued.id))?.fields.status).toBe('queued');
    await expect(lifecycle.move('fail', pending, { detail: 'yes' }, { from: ['fallback_pending'] })).resolves.toBe(true);
    expect((await store.get(pending.id))?.fields.status).toBe('failed');
    // A narrowing outside the table leaves nothing allowed: refused without asking the store.
    const moveCall = jest.spyOn(store, 'move');
    await expect(lifecycle.move('sent', queued, { detail: 'no' }, { from: ['fallback_pending'] })).resolves.toBe(false);
    expect(moveCall).not.toHaveBeenCalled();
    expect((await store.get(queued.id))?.fields.status).toBe('queued');
  });

  it('an `expect` condition that fails refuses the move and changes nothing', async () => {
    const { store, lifecycle, notice } = rig();
    const n = await notice('fallback_pending');
    await expect(lifecycle.move('callStarted', n, { detail: null, set: { csCallAt: String(T0) }, expect: { csCallAt: '' } })).resolves.toBe(true);
    const before = await store.get(n.id);
    await expect(lifecycle.move('callStarted', n, { detail: null, set: { csCallAt: String(T0 + 1) }, expect: { csCallAt: '' } })).resolves.toBe(false);
    expect(await store.get(n.id)).toEqual(before);
  });

  it('a move with detail null leaves no history line and no log line', async () => {
    const { store, lifecycle, notice, logs } = rig();
    const n = await notice('queued');
    await expect(lifecycle.move('retryLater', n, { detail: null, set: { attempts: '1' }, dueAt: T0 + 10 })).resolves.toBe(true);
    await expect(lifecycle.move('sent', n, { detail: null })).resolves.toBe(true);
    const record = await store.get(n.id);
    expect(record?.fields).toMatchObject({ status: 'awaiting_receipt', attempts: '1' });
    expect(record?.history.map((h) => h.detail)).toEqual(['created']);
    expect(logs()).not.toContain('notification status');
  });

  it('logs each move that leaves a history line', async () => {
    const { lifecycle, notice, logs } = rig();
    const n = await notice('queued');
    await lifecycle.move('sent', n, { detail: 'accepted by WeChat' });
    const line = JSON.parse(logs().trim().split('\n').at(-1) as string) as Record<string, unknown>;
    expect(line).toMatchObject({ message: 'notification status', id: n.id, status: 'awaiting_receipt', move: 'sent', detail: 'accepted by WeChat' });
  });

  it('reports a status change to the metrics for real changes only', async () => {
    const { lifecycle, metrics, notice } = rig();
    const n = await notice('queued');
    await lifecycle.move('retryLater', n, { detail: 'same status' });
    await lifecycle.move('fallbackSent', n, { detail: 'refused' });
    expect(metrics.statusChanged).not.toHaveBeenCalled();
    await lifecycle.move('templateFailed', n, { detail: 'on to the text' });
    await lifecycle.move('callStarted', { ...n, status: 'fallback_pending' }, { detail: null });
    await lifecycle.move('fallbackSent', n, { detail: 'sent' });
    await lifecycle.move('unschedule', { ...n, status: 'fallback_sent' }, { detail: null, dueAt: null });
    expect(metrics.statusChanged.mock.calls).toEqual([['fallback_pending'], ['fallback_sent']]);
  });

  it('note() adds a history line in the current status and changes nothing else', async () => {
    const { store, lifecycle, notice } = rig();
    const n = await notice('delivered');
    const before = await store.get(n.id);
    await lifecycle.note(n, 'late receipt; changed nothing');
    const after = await store.get(n.id);
    expect(after?.fields).toEqual(before?.fields);
    expect(after?.history.at(-1)).toEqual({ at: new Date(T0).toISOString(), status: 'delivered', detail: 'late receipt; changed nothing' });
  });
});

describe('the parked list kept by the moves', () => {
  it('park adds the notice to its user\'s list, oldest first', async () => {
    const { lifecycle, notice } = rig();
    const later = await notice('fallback_pending', T0 + 2);
    const earlier = await notice('fallback_pending', T0 + 1);
    await expect(lifecycle.move('park', later, { detail: 'parked', dueAt: T0 + 60_000 })).resolves.toBe(true);
    await expect(lifecycle.move('park', earlier, { detail: 'parked', dueAt: T0 + 60_000 })).resolves.toBe(true);
    await expect(lifecycle.parkedFor(OPENID, 10)).resolves.toEqual([earlier.id, later.id]);
    await expect(lifecycle.parkedFor(OPENID, 1)).resolves.toEqual([earlier.id]);
    await expect(lifecycle.parkedFor('oSOMEONE_else', 10)).resolves.toEqual([]);
  });

  it('a refused park adds nothing', async () => {
    const { lifecycle, notice } = rig();
    const n = await notice('queued');
    await expect(lifecycle.move('park', n, { detail: 'parked', dueAt: T0 + 60_000 })).resolves.toBe(false);
    await expect(lifecycle.parkedFor(OPENID, 10)).resolves.toEqual([]);
  });

  it('park needs the notice\'s createdAt; releaseAsReply needs its reply', async () => {
    const { store, lifecycle, notice } = rig();
    const n = await notice('fallback_pending');
    await expect(lifecycle.move('park', { id: n.id, openid: OPENID }, { detail: 'parked', dueAt: T0 + 60_000 })).rejects.toThrow(/createdAt/);
    await expect(lifecycle.move('park', n, { detail: 'parked' })).rejects.toThrow(/due time/);
    await lifecycle.move('park', n, { detail: 'parked', dueAt: T0 + 60_000 });
    await expect(lifecycle.move('releaseAsReply', n, { detail: 'reply' })).rejects.toThrow(/reply/);
    expect((await store.get(n.id))?.fields.status).toBe('awaiting_interaction');
  });

  it.each(['release', 'expire', 'fail'] as const)('%s takes the notice off the parked list', async (name) => {
    const { lifecycle, notice } = rig();
    const n = await notice('fallback_pending');
    const other = await notice('fallback_pending', T0 + 1);
    await lifecycle.move('park', n, { detail: 'parked', dueAt: T0 + 60_000 });
    await lifecycle.move('park', other, { detail: 'parked', dueAt: T0 + 60_000 });
    await expect(lifecycle.move(name, n, { detail: name })).resolves.toBe(true);
    await expect(lifecycle.parkedFor(OPENID, 10)).resolves.toEqual([other.id]);
  });

  it('releaseAsReply takes the notice off the list and stores the reply text under its key', async () => {
    const { store, lifecycle, notice } = rig();
    const n = await notice('fallback_pending');
    await lifecycle.move('park', n, { detail: 'parked', dueAt: T0 + 60_000 });
    const reply = { key: 'reply:msg:42', text: 'Order A1 paid', ttlMs: 60_000 };
    await expect(lifecycle.move('releaseAsReply', n, { detail: 'as the reply', set: { channel: 'passive_reply' } }, { reply })).resolves.toBe(true);
    await expect(lifecycle.parkedFor(OPENID, 10)).resolves.toEqual([]);
    await expect(store.replyFor(OPENID, 'reply:msg:42')).resolves.toBe('Order A1 paid');
    expect((await store.get(n.id))?.fields).toMatchObject({ status: 'fallback_sent', channel: 'passive_reply' });
  });

  it('a refused releaseAsReply stores no reply', async () => {
    const { store, lifecycle, notice } = rig();
    const n = await notice('fallback_sent');
    await expect(lifecycle.move('releaseAsReply', n, { detail: 'as the reply' }, { reply: { key: 'reply:k', text: 'x', ttlMs: 1000 } })).resolves.toBe(false);
    await expect(store.replyFor(OPENID, 'reply:k')).resolves.toBeNull();
  });

  it('forgetParked drops a stale entry', async () => {
    const { lifecycle, notice } = rig();
    const n = await notice('fallback_pending');
    await lifecycle.move('park', n, { detail: 'parked', dueAt: T0 + 60_000 });
    await lifecycle.forgetParked(OPENID, n.id);
    await expect(lifecycle.parkedFor(OPENID, 10)).resolves.toEqual([]);
  });
});

describe('what the moves count (the statistics, in the same step)', () => {
  /** The counters of the rig's account around T0, `<template> <counter>` → n. */
  async function counted(store: ReturnType<typeof rig>['store']): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const r of await store.readCounters('hour', T0 - 86_400_000, T0 + 86_400_000)) out[`${r.subject} ${r.counter}`] = (out[`${r.subject} ${r.counter}`] ?? 0) + r.n;
    return out;
  }

  it('a receipt that beats the recording of the send counts the send too; one after it does not', async () => {
    const { store, lifecycle, notice } = rig();
    const early = { ...(await notice('queued')), template: 'order_paid' };
    const late = { ...(await notice('awaiting_receipt')), template: 'order_paid' };
    await lifecycle.move('delivered', early, { detail: 'receipt', receipt: 'success' });
    await lifecycle.move('templateFailed', late, { detail: 'receipt', receipt: 'user_block' });
    // the send's own move then finds the notice gone on: nothing more
    await expect(lifecycle.move('sent', early, { detail: 'sent' })).resolves.toBe(false);
    expect(await counted(store)).toEqual({
      'order_paid template.sent': 1,
      'order_paid receipt.success': 1,
      'order_paid delivered': 1,
      'order_paid receipt.user_block': 1,
    });
  });

  it('no receipt by the deadline, a refusal, a park (parked once, the closed window each time), a failure by its reason code', async () => {
    const { store, lifecycle, notice } = rig();
    const a = { ...(await notice('awaiting_receipt')), template: 't1' };
    await lifecycle.move('templateFailed', a, { detail: 'no receipt', receipt: 'none' });
    const b = { ...(await notice('queued')), template: 't1' };
    await lifecycle.move('templateFailed', b, { detail: 'refused' });
    await lifecycle.move('park', b, { detail: 'closed', set: { parkedUntil: String(T0 + 1000) }, dueAt: T0 + 1000 });
    await lifecycle.move('release', b, { detail: 'back' });
    await lifecycle.move('park', { ...b, parkedUntil: T0 + 1000 }, { detail: 'closed again', dueAt: T0 + 1000 });
    await lifecycle.move('fail', b, { detail: 'refused', set: { reason: 'customer_service_refused: errcode 12345' } });
    expect(await counted(store)).toEqual({
      't1 receipt.none': 1,
      't1 template.refused': 1,
      't1 window.closed': 2,
      't1 parked': 1,
      't1 failed.customer_service_refused': 1,
    });
  });

  it('a mover that does not know the template counts under the one the record holds', async () => {
    const { store, lifecycle } = rig();
    const id = store.newId(OPENID);
    await store.create(id, { status: 'awaiting_interaction', openid: OPENID, template: 'from_record' }, { at: new Date(T0).toISOString(), status: 'awaiting_interaction', detail: 'x' }, { ttlSeconds: RETENTION_SECONDS });
    await lifecycle.move('releaseAsReply', { id, openid: OPENID }, { detail: 'reply' }, { reply: { key: 'reply:1', text: 'x', ttlMs: 1000 } });
    expect(await counted(store)).toEqual({ 'from_record fallback_sent.passive_reply': 1 });
  });
});
