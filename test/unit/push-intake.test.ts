import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PushBusyError } from '../../src/delivery/push-intake';
import { JournaledPushes, type JournaledPush } from '../../src/delivery/push-journal';
import { FileJournal } from '../../src/store/file-journal';
import { StoreUnavailableError } from '../../src/store/unavailable';
import { WINDOW_RULES } from '../../src/wechat/customer-service-window';
import { APPID, deliveryRig, eventPush, messagePush, receiptPush, T0, TEXT, USER, type DeliveryRig } from '../helpers/delivery-rig';

/** Everything the store holds about these notices (fields and history). */
const snapshot = (r: DeliveryRig, ids: string[]) => Promise.all(ids.map((id) => r.store.get(id)));

/** A notice parked for USER (its window was closed), with the standard text. */
async function parkedNotice(r: DeliveryRig, createdAt = T0) {
  const n = await r.noticeIn('fallback_pending', { createdAt });
  await r.parking.park(n, TEXT, 'window closed');
  return n;
}

describe('PushIntake.handle', () => {
  it('a push claimed by an instance that died half-way is handled on WeChat\'s re-send, once the 3 s claim has passed', async () => {
    const r = deliveryRig();
    const push = messagePush(USER, '9001');
    await expect(r.store.firstSeenPush(push.openid, push.dedupeKey, 3)).resolves.toBe(true); // the instance that died
    // A re-send while the claim holds waits for it (real time, bounded); the claim outlives the wait
    // here (the test's clock stands still), so it is told to come back: no answer that could lose a reply.
    const started = Date.now();
    await expect(r.intake.handle(push)).rejects.toBeInstanceOf(PushBusyError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
    await expect(r.window.hasRoom(USER)).resolves.toBe(false);
    r.advance(3000);
    await r.intake.handle(push);
    await expect(r.window.hasRoom(USER)).resolves.toBe(true);
    // handled: now kept as seen for a day, not for the claim's 3 s
    r.advance(60_000);
    await expect(r.intake.handle(push)).resolves.toMatchObject({ workDue: false });
    expect(r.metrics.pushReceived.mock.calls.map(([, duplicate]) => duplicate)).toEqual([false, true]);
  });

  it('an earlier try that chose a notice as the reply and died before answering: the re-send gets that reply, no other notice', async () => {
    const r = deliveryRig();
    const first = await parkedNotice(r, T0);
    const second = await parkedNotice(r, T0 + 1);
    const push = messagePush(USER, '9002');
    await expect(r.store.firstSeenPush(push.openid, push.dedupeKey, 3)).resolves.toBe(true);
    await r.parking.release(USER, push.dedupeKey, false); // the earlier try got this far
    r.advance(3000);
    await expect(r.intake.handle(push)).resolves.toEqual({ reply: TEXT, downstreamReply: undefined, workDue: true });
    expect(await r.get(first.id)).toMatchObject({ status: 'fallback_sent', channel: 'passive_reply' });
    expect((await r.get(second.id)).status).toBe('fallback_pending');
  });

  it('an interaction opens the customer-service window: a message the long one, a follow the short one', async () => {
    const r = deliveryRig();
    await expect(r.window.hasRoom(USER)).resolves.toBe(false);
    await r.intake.handle(messagePush(USER, '9001'));
    await expect(r.window.hasRoom(USER)).resolves.toBe(true);
    r.advance(WINDOW_RULES.message.seconds * 1000);
    await expect(r.window.hasRoom(USER)).resolves.toBe(false);

    await r.intake.handle(eventPush(USER, 'subscribe', r.now()));
    await expect(r.window.hasRoom(USER)).resolves.toBe(true);
    r.advance(WINDOW_RULES.event.seconds * 1000);
    await expect(r.window.hasRoom(USER)).resolves.toBe(false);
  });

  it('an unfollow closes the window', async () => {
    const r = deliveryRig();
    await r.intake.handle(messagePush(USER, '9001'));
    await r.intake.handle(eventPush(USER, 'unsubscribe'));
    await expect(r.window.take(USER)).resolves.toEqual({ state: 'closed' });
  });

  it('an interaction answers with the oldest parked notice; the others are due for customer service', async () => {
    const r = deliveryRig();
    const first = await parkedNotice(r, T0);
    const second = await parkedNotice(r, T0 + 1);
    await expect(r.intake.handle(messagePush(USER, '9001'))).resolves.toEqual({ reply: TEXT, downstreamReply: undefined, workDue: true });
    expect(await r.get(first.id)).toMatchObject({ status: 'fallback_sent', channel: 'passive_reply' });
    expect((await r.get(second.id)).status).toBe('fallback_pending');
  });

  it('a duplicate push changes nothing and gets the same answer', async () => {
    const r = deliveryRig();
    const first = await parkedNotice(r, T0);
    const second = await parkedNotice(r, T0 + 1);
    const push = messagePush(USER, '9001');
    await r.intake.handle(push);
    const before = await snapshot(r, [first.id, second.id]);
    const schedule = await r.schedule.scheduleInfo();

    await expect(r.intake.handle(push)).resolves.toEqual({ reply: TEXT, downstreamReply: undefined, workDue: false });

    expect(await snapshot(r, [first.id, second.id])).toEqual(before);
    await expect(r.schedule.scheduleInfo()).resolves.toEqual(schedule);
    expect(r.metrics.pushReceived.mock.calls).toEqual([['message', false, APPID], ['message', true, APPID]]);
  });

  it('a duplicate receipt changes nothing', async () => {
    const r = deliveryRig();
    r.api.sendTemplate.mockResolvedValueOnce('2000000001');
    const n = await r.accept();
    await r.templateLeg.send(n);
    const receipt = receiptPush(USER, '2000000001', 'failed:user block');
    await expect(r.intake.handle(receipt)).resolves.toMatchObject({ workDue: true });
    const before = await snapshot(r, [n.id]);

    await expect(r.intake.handle(receipt)).resolves.toEqual({ reply: undefined, downstreamReply: undefined, workDue: false });
    expect(await snapshot(r, [n.id])).toEqual(before);
    expect(r.metrics.pushReceived.mock.calls).toEqual([['receipt', false, APPID], ['receipt', true, APPID]]);
  });

  it('handled too late to answer WeChat: no passive reply, every parked notice through customer service', async () => {
    const r = deliveryRig();
    const n = await parkedNotice(r);
    r.advance(4000);
    await expect(r.intake.handle(messagePush(USER, '9001'), undefined, T0)).resolves.toMatchObject({ reply: undefined, workDue: true });
    expect((await r.get(n.id)).status).toBe('fallback_pending');
  });

  it('the business bot\'s reply wins, also for the re-send; the parked notice goes through customer service', async () => {
    const r = deliveryRig();
    const n = await parkedNotice(r);
    const forward = jest.fn(async () => '<xml>bot</xml>');
    const push = messagePush(USER, '9001');
    await expect(r.intake.handle(push, forward)).resolves.toEqual({ reply: undefined, downstreamReply: '<xml>bot</xml>', workDue: true });
    expect((await r.get(n.id)).status).toBe('fallback_pending');

    await expect(r.intake.handle(push, forward)).resolves.toEqual({ reply: undefined, downstreamReply: '<xml>bot</xml>', workDue: false });
    expect(forward).toHaveBeenCalledTimes(1);
  });

  it('a push whose handling failed is handled again on WeChat\'s re-send', async () => {
    const r = deliveryRig();
    const n = await parkedNotice(r);
    const release = jest.spyOn(r.parking, 'release').mockRejectedValueOnce(new Error('release failed'));
    const push = messagePush(USER, '9001');
    await expect(r.intake.handle(push)).rejects.toThrow('release failed');
    expect(release).toHaveBeenCalledTimes(1);
    expect((await r.get(n.id)).status).toBe('awaiting_interaction');

    await expect(r.intake.handle(push)).resolves.toMatchObject({ reply: TEXT });
    expect((await r.get(n.id)).status).toBe('fallback_sent');
  });
});

describe('JournaledPushes', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'wxreach-units-journal-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a push that meets an unreachable store is kept and applied once the store answers', async () => {
    const r = deliveryRig();
    r.api.sendTemplate.mockResolvedValueOnce('2000000001');
    const n = await r.accept();
    await r.templateLeg.send(n);
    const journal = new FileJournal<JournaledPush>(path.join(dir, 'pushes.jsonl'));
    const pushes = new JournaledPushes(() => r.intake, journal, r.log);
    const applied = jest.spyOn(r.store, 'applyReceipts').mockImplementationOnce((receipts) => receipts.map(() => Promise.reject(new StoreUnavailableError('store down'))));

    await expect(pushes.handle(APPID, receiptPush(USER, '2000000001', 'success'))).resolves.toEqual({ workDue: false });
    expect(applied).toHaveBeenCalledTimes(1);
    expect(journal.pending).toBe(true);
    expect((await r.get(n.id)).status).toBe('awaiting_receipt');

    await expect(pushes.replay()).resolves.toBe(1);
    expect(journal.pending).toBe(false);
    expect((await r.get(n.id)).status).toBe('delivered');
  });

  it('a user message kept in the journal and applied a moment later gives no passive reply (WeChat was answered already)', async () => {
    const r = deliveryRig();
    const parked = await parkedNotice(r, T0);
    const journal = new FileJournal<JournaledPush>(path.join(dir, 'pushes.jsonl'));
    const pushes = new JournaledPushes(() => r.intake, journal, r.log);
    await expect(pushes.handle(APPID, messagePush(USER, '9100'), undefined, r.now(), true)).resolves.toEqual({ workDue: false });
    // applied at once, well inside the passive-reply deadline: still no reply to give
    await expect(pushes.replay()).resolves.toBe(1);
    expect((await r.get(parked.id)).status).toBe('fallback_pending');
    await expect(r.store.replyFor(USER, messagePush(USER, '9100').dedupeKey)).resolves.toBeNull();
  });
});
