import { WechatApiError, WechatTransportError } from '../../src/wechat/api-errors';
import { ERRCODE } from '../../src/wechat/errcodes';
import { CALL_MS, deliveryRig, SETTINGS, T0, TEXT, USER } from '../helpers/delivery-rig';

const CUSTOM_PATH = '/cgi-bin/message/custom/send';
const refusal = (errcode: number) => new WechatApiError(errcode, `errmsg ${errcode} rid: 1`, CUSTOM_PATH);
const PARKED_UNTIL = T0 + SETTINGS.parkSeconds * 1000;

describe('CustomerServiceLeg.send', () => {
  it('a window never seen is tried: the text goes out, fallback_sent', async () => {
    const r = deliveryRig();
    const n = await r.noticeIn('fallback_pending');
    await r.customerService.send(n);

    expect(r.api.sendText.mock.calls).toEqual([[USER, TEXT]]);
    const after = await r.get(n.id);
    expect(after).toMatchObject({ status: 'fallback_sent', channel: 'customer_service', text: TEXT, csAttempts: 1 });
    expect(after.csCallAt).toBeUndefined();
    await expect(r.schedule.scheduleInfo()).resolves.toEqual({ size: 0, nextDueAt: null });
  });

  it('sends the business\'s own text, and a text once built stays the same', async () => {
    const r = deliveryRig();
    const own = await r.noticeIn('fallback_pending', { fallbackText: 'Your order A1 is paid.' });
    const fixed = await r.noticeIn('fallback_pending', { text: 'Built earlier.' });
    await r.customerService.send(own);
    await r.customerService.send(fixed);
    expect(r.api.sendText.mock.calls).toEqual([[USER, 'Your order A1 is paid.'], [USER, 'Built earlier.']]);
  });

  it('45015: parked (awaiting_interaction) and the window recorded closed; the next notice parks without a call', async () => {
    const r = deliveryRig();
    r.api.sendText.mockRejectedValueOnce(refusal(ERRCODE.WINDOW_CLOSED));
    const first = await r.noticeIn('fallback_pending');
    await r.customerService.send(first);

    expect(r.api.sendText).toHaveBeenCalledTimes(1);
    const parked = await r.get(first.id);
    expect(parked).toMatchObject({ status: 'awaiting_interaction', text: TEXT, parkedUntil: PARKED_UNTIL });
    expect(parked.csCallAt).toBeUndefined();
    expect(parked.history.at(-1)?.detail).toBe('window_closed: errcode 45015; kept until the user interacts');
    await expect(r.window.take(USER)).resolves.toEqual({ state: 'closed' });
    await expect(r.lifecycle.parkedFor(USER, 10)).resolves.toEqual([first.id]);
    await expect(r.schedule.scheduleInfo()).resolves.toEqual({ size: 1, nextDueAt: PARKED_UNTIL });

    r.advance(1);
    const second = await r.noticeIn('fallback_pending');
    await r.customerService.send(second);
    expect(r.api.sendText).toHaveBeenCalledTimes(1);
    const known = await r.get(second.id);
    expect(known).toMatchObject({ status: 'awaiting_interaction', text: TEXT });
    expect(known.history.at(-1)?.detail).toBe('customer-service window closed (known), no call; kept until the user interacts');
    await expect(r.lifecycle.parkedFor(USER, 10)).resolves.toEqual([first.id, second.id]);
  });

  it('a second worker with the same read does not call while the first one\'s call is in flight', async () => {
    const r = deliveryRig();
    await r.window.open(USER, 'event'); // 3 messages
    const n = await r.noticeIn('fallback_pending');
    r.api.sendText.mockImplementationOnce(async () => {
      // The marker is set now: the stale read of another worker must not start a second call.
      await r.customerService.send(n);
    });
    await r.customerService.send(n);

    expect(r.api.sendText).toHaveBeenCalledTimes(1);
    expect(await r.get(n.id)).toMatchObject({ status: 'fallback_sent', csAttempts: 1 });
    // The second worker gave back the message of the window it took: two are left, not one.
    await expect(r.window.take(USER)).resolves.toMatchObject({ state: 'open' });
    await expect(r.window.take(USER)).resolves.toMatchObject({ state: 'open' });
    await expect(r.window.take(USER)).resolves.toEqual({ state: 'closed' });
  });

  it('a stale read handled after the call is over does not call again', async () => {
    const r = deliveryRig();
    const n = await r.noticeIn('fallback_pending');
    await r.customerService.send(n);
    await r.customerService.send(n);
    expect(r.api.sendText).toHaveBeenCalledTimes(1);
    expect((await r.get(n.id)).history.filter((h) => h.detail === 'customer-service text accepted')).toHaveLength(1);
  });

  it('a call marker found set: within the call time it waits for that call, no second call', async () => {
    const r = deliveryRig();
    const n = await r.noticeIn('fallback_pending', { csCallAt: T0 });
    r.advance(CALL_MS - 1);
    await r.customerService.send(n);

    expect(r.api.sendText).not.toHaveBeenCalled();
    const after = await r.get(n.id);
    expect(after).toMatchObject({ status: 'fallback_pending', csCallAt: T0 });
    expect(after.history).toHaveLength(1);
    await expect(r.schedule.scheduleInfo()).resolves.toEqual({ size: 1, nextDueAt: T0 + CALL_MS });
  });

  it('a call marker found set past the call time (the caller died): failed outcome_unknown, never called again', async () => {
    const r = deliveryRig();
    const n = await r.noticeIn('fallback_pending', { csCallAt: T0 });
    r.advance(CALL_MS);
    await r.customerService.send(n);

    expect(r.api.sendText).not.toHaveBeenCalled();
    const after = await r.get(n.id);
    expect(after).toMatchObject({ status: 'failed', reason: 'outcome_unknown' });
    expect(after.csCallAt).toBeUndefined();
  });

  it('a transport error after the request left (sent "maybe"): failed outcome_unknown, no repeat', async () => {
    const r = deliveryRig();
    r.api.sendText.mockRejectedValueOnce(new WechatTransportError(CUSTOM_PATH, 'maybe', 'timeout'));
    const n = await r.noticeIn('fallback_pending');
    await r.customerService.send(n);

    expect(r.api.sendText).toHaveBeenCalledTimes(1);
    const after = await r.get(n.id);
    expect(after).toMatchObject({ status: 'failed', reason: 'outcome_unknown' });
    expect(after.csCallAt).toBeUndefined();
    await expect(r.schedule.scheduleInfo()).resolves.toEqual({ size: 0, nextDueAt: null });
  });

  it('a transport error before the request left (sent "no"): waits for WeChat, then calls again', async () => {
    const r = deliveryRig();
    r.api.sendText.mockRejectedValueOnce(new WechatTransportError(CUSTOM_PATH, 'no', 'ECONNREFUSED'));
    const n = await r.noticeIn('fallback_pending');
    await r.customerService.send(n);

    expect(r.api.sendText).toHaveBeenCalledTimes(1);
    const waiting = await r.get(n.id);
    expect(waiting).toMatchObject({ status: 'fallback_pending', waiting: `fallback_pending@${T0}` });
    expect(waiting.csCallAt).toBeUndefined();
    await r.customerService.send(waiting);
    expect(r.api.sendText).toHaveBeenCalledTimes(2);
    expect((await r.get(n.id)).status).toBe('fallback_sent');
  });

  it('43004: failed not_a_follower', async () => {
    const r = deliveryRig();
    r.api.sendText.mockRejectedValueOnce(refusal(ERRCODE.REQUIRE_SUBSCRIBE));
    const n = await r.noticeIn('fallback_pending');
    await r.customerService.send(n);

    expect(r.api.sendText).toHaveBeenCalledTimes(1);
    expect(await r.get(n.id)).toMatchObject({ status: 'failed', reason: 'not_a_follower' });
    await expect(r.lifecycle.parkedFor(USER, 10)).resolves.toEqual([]);
  });
});
