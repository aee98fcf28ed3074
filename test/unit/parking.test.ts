import type { Notification } from '../../src/delivery/notification';
import { REPLY_MEMORY_MS } from '../../src/delivery/parking';
import { deliveryRig, SETTINGS, T0, USER, type DeliveryRig } from '../helpers/delivery-rig';

const PARKED_UNTIL = T0 + SETTINGS.parkSeconds * 1000;

/** Parks a fallback_pending notice created at `createdAt` with text `text`. */
async function parked(r: DeliveryRig, createdAt: number, text: string): Promise<Notification> {
  const n = await r.noticeIn('fallback_pending', { createdAt });
  await r.parking.park(n, text, 'window closed');
  expect((await r.get(n.id)).status).toBe('awaiting_interaction');
  return r.get(n.id);
}

describe('Parking.park', () => {
  it('keeps the text until the user interacts, due at the park deadline', async () => {
    const r = deliveryRig();
    const n = await parked(r, T0, 'the text');
    expect(n).toMatchObject({ text: 'the text', parkedUntil: PARKED_UNTIL });
    expect(n.history.at(-1)?.detail).toBe('window closed; kept until the user interacts');
    await expect(r.lifecycle.parkedFor(USER, 10)).resolves.toEqual([n.id]);
    await expect(r.schedule.scheduleInfo()).resolves.toEqual({ size: 1, nextDueAt: PARKED_UNTIL });
  });

  it('parked again (released, then the window closed again): keeps its first deadline', async () => {
    const r = deliveryRig();
    const n = await r.noticeIn('fallback_pending', { parkedUntil: T0 + 1234 });
    r.advance(1000);
    await r.parking.park(n, 'the text', 'window closed');
    expect(await r.get(n.id)).toMatchObject({ status: 'awaiting_interaction', parkedUntil: T0 + 1234 });
  });

  it('the window opened while it was being parked: released at once through customer service', async () => {
    const r = deliveryRig();
    const n = await r.noticeIn('fallback_pending');
    await r.window.open(USER, 'message');
    await r.parking.park(n, 'the text', 'window closed');

    const after = await r.get(n.id);
    expect(after.status).toBe('fallback_pending');
    expect(after.history.at(-1)?.detail).toBe('the window opened meanwhile: sending through customer service');
    await expect(r.lifecycle.parkedFor(USER, 10)).resolves.toEqual([]);
    await expect(r.claim()).resolves.toEqual([n.id]);
  });
});

describe('Parking.release', () => {
  it('the oldest parked notice becomes the reply; the others go to customer service in order, after it', async () => {
    const r = deliveryRig();
    // Parked out of order: the order is the notices' own (createdAt).
    const third = await parked(r, T0 + 2, 'text 3');
    const first = await parked(r, T0, 'text 1');
    const second = await parked(r, T0 + 1, 'text 2');

    await expect(r.parking.release(USER, 'reply:msg:1', false)).resolves.toEqual({ reply: 'text 1', released: 3 });

    expect(await r.get(first.id)).toMatchObject({ status: 'fallback_sent', channel: 'passive_reply' });
    await expect(r.store.replyFor(USER, 'reply:msg:1')).resolves.toBe('text 1');
    expect((await r.get(second.id)).status).toBe('fallback_pending');
    expect((await r.get(third.id)).status).toBe('fallback_pending');
    await expect(r.lifecycle.parkedFor(USER, 10)).resolves.toEqual([]);
    // A customer-service message must not overtake the passive reply: none is due at once.
    await expect(r.claim(T0 + 499)).resolves.toEqual([]);
    await expect(r.claim(T0 + 1000)).resolves.toEqual([second.id, third.id]);
    expect(r.api.sendText).not.toHaveBeenCalled();
  });

  it('the reply is remembered for the re-sends of the push, for a while', async () => {
    const r = deliveryRig();
    await parked(r, T0, 'text 1');
    await r.parking.release(USER, 'reply:msg:1', false);
    r.advance(REPLY_MEMORY_MS - 1);
    await expect(r.store.replyFor(USER, 'reply:msg:1')).resolves.toBe('text 1');
    r.advance(1);
    await expect(r.store.replyFor(USER, 'reply:msg:1')).resolves.toBeNull();
  });

  it('when the reply is taken: every parked notice goes to customer service now, in order', async () => {
    const r = deliveryRig();
    const second = await parked(r, T0 + 1, 'text 2');
    const first = await parked(r, T0, 'text 1');

    await expect(r.parking.release(USER, 'reply:msg:1', true)).resolves.toEqual({ reply: undefined, released: 2 });

    expect((await r.get(first.id)).status).toBe('fallback_pending');
    expect((await r.get(second.id)).status).toBe('fallback_pending');
    await expect(r.store.replyFor(USER, 'reply:msg:1')).resolves.toBeNull();
    await expect(r.schedule.scheduleInfo()).resolves.toEqual({ size: 2, nextDueAt: T0 });
    await expect(r.claim(T0 + 1)).resolves.toEqual([first.id, second.id]);
  });

  it('nothing parked: no reply, nothing released', async () => {
    const r = deliveryRig();
    await expect(r.parking.release(USER, 'reply:msg:1', false)).resolves.toEqual({ reply: undefined, released: 0 });
    await expect(r.store.replyFor(USER, 'reply:msg:1')).resolves.toBeNull();
  });
});

describe('Parking.expire', () => {
  it('failed expired, off the parked list and the schedule', async () => {
    const r = deliveryRig();
    const n = await parked(r, T0, 'the text');
    r.advance(SETTINGS.parkSeconds * 1000);
    await r.parking.expire(n);

    expect(await r.get(n.id)).toMatchObject({ status: 'failed', reason: 'expired' });
    await expect(r.lifecycle.parkedFor(USER, 10)).resolves.toEqual([]);
    await expect(r.schedule.scheduleInfo()).resolves.toEqual({ size: 0, nextDueAt: null });
  });

  it('a notice released meanwhile is not expired', async () => {
    const r = deliveryRig();
    const n = await parked(r, T0, 'the text');
    await r.parking.release(USER, 'reply:msg:1', true);
    await r.parking.expire(n);
    expect((await r.get(n.id)).status).toBe('fallback_pending');
  });
});
