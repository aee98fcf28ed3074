import { MAX_STEP_ERRORS } from '../../src/delivery/dispatcher';
import { StoreUnavailableError } from '../../src/store/unavailable';
import { deliveryRig, T0, TEXT, USER } from '../helpers/delivery-rig';

describe('Dispatcher.handle routes a claimed notice by its status', () => {
  it('queued: the template is sent', async () => {
    const r = deliveryRig();
    const n = await r.accept();
    await r.dispatcher.handle(n.id);
    expect(r.api.sendTemplate).toHaveBeenCalledTimes(1);
    expect((await r.get(n.id)).status).toBe('awaiting_receipt');
  });

  it('awaiting_receipt before its deadline: back on the schedule at the deadline, nothing decided', async () => {
    const r = deliveryRig();
    const n = await r.noticeIn('awaiting_receipt', { receiptDueAt: T0 + 10_000 });
    const before = await r.store.get(n.id);
    await r.dispatcher.handle(n.id);
    expect(await r.store.get(n.id)).toEqual(before);
    await expect(r.schedule.scheduleInfo()).resolves.toEqual({ size: 1, nextDueAt: T0 + 10_000 });
  });

  it('awaiting_receipt past its deadline: the receipt timeout decides (here: the text)', async () => {
    const r = deliveryRig();
    const n = await r.noticeIn('awaiting_receipt', { receiptDueAt: T0 });
    await r.dispatcher.handle(n.id);
    expect(r.api.sendText.mock.calls).toEqual([[USER, TEXT]]);
    expect(await r.get(n.id)).toMatchObject({ status: 'fallback_sent', reason: 'no_receipt' });
  });

  it('fallback_pending: the customer-service text is sent', async () => {
    const r = deliveryRig();
    const n = await r.noticeIn('fallback_pending');
    await r.dispatcher.handle(n.id);
    expect(r.api.sendText).toHaveBeenCalledTimes(1);
    expect((await r.get(n.id)).status).toBe('fallback_sent');
  });

  it('awaiting_interaction: rescheduled before its deadline, expired after it', async () => {
    const r = deliveryRig();
    const n = await r.noticeIn('awaiting_interaction', { parkedUntil: T0 + 5000 });
    await r.dispatcher.handle(n.id);
    expect((await r.get(n.id)).status).toBe('awaiting_interaction');
    await expect(r.schedule.scheduleInfo()).resolves.toEqual({ size: 1, nextDueAt: T0 + 5000 });
    r.advance(5000);
    await r.dispatcher.handle(n.id);
    expect(await r.get(n.id)).toMatchObject({ status: 'failed', reason: 'expired' });
  });

  it.each(['delivered', 'fallback_sent', 'failed'] as const)('%s (a stale claim): taken off the schedule, nothing else', async (status) => {
    const r = deliveryRig();
    const n = await r.noticeIn(status);
    const before = await r.store.get(n.id);
    await r.dispatcher.handle(n.id);
    expect(await r.store.get(n.id)).toEqual(before);
    await expect(r.schedule.scheduleInfo()).resolves.toEqual({ size: 0, nextDueAt: null });
    expect(r.api.sendTemplate).not.toHaveBeenCalled();
    expect(r.api.sendText).not.toHaveBeenCalled();
  });

  it('a notice gone with its retention: nothing', async () => {
    const r = deliveryRig();
    await expect(r.dispatcher.handle(r.store.newId(USER))).resolves.toBeUndefined();
  });
});

describe('Dispatcher.stepFailed', () => {
  it(`counts internal errors, tries again later, and after ${MAX_STEP_ERRORS} ends the notice failed internal_error`, async () => {
    const r = deliveryRig();
    const n = await r.noticeIn('fallback_pending', { csCallAt: T0 });
    for (let i = 1; i < MAX_STEP_ERRORS; i += 1) {
      await r.dispatcher.stepFailed(n.id, new Error('bad stored data'));
      const retried = await r.get(n.id);
      expect(retried).toMatchObject({ status: 'fallback_pending', stepErrors: i });
      expect(retried.history.at(-1)?.detail).toMatch(new RegExp(`^internal error \\(${i} of ${MAX_STEP_ERRORS}\\): bad stored data; trying again in \\d+ ms$`));
      const { nextDueAt } = await r.schedule.scheduleInfo();
      expect(nextDueAt).toBeGreaterThan(r.now());
    }
    await r.dispatcher.stepFailed(n.id, new Error('bad stored data'));
    const failed = await r.get(n.id);
    expect(failed).toMatchObject({ status: 'failed', reason: 'internal_error', stepErrors: MAX_STEP_ERRORS });
    expect(failed.csCallAt).toBeUndefined();
    expect(failed.history.at(-1)?.detail).toBe(`internal error, gave up after ${MAX_STEP_ERRORS} tries: bad stored data`);
    await expect(r.schedule.scheduleInfo()).resolves.toEqual({ size: 0, nextDueAt: null });
    expect(r.logs()).toContain('notification failed: its step keeps failing');
  });

  it('an unreachable store is not the notice\'s fault: nothing is counted or changed', async () => {
    const r = deliveryRig();
    const n = await r.noticeIn('queued');
    const before = await r.store.get(n.id);
    for (let i = 0; i < MAX_STEP_ERRORS + 1; i += 1) await r.dispatcher.stepFailed(n.id, new StoreUnavailableError('store down'));
    expect(await r.store.get(n.id)).toEqual(before);
    await expect(r.schedule.scheduleInfo()).resolves.toEqual({ size: 1, nextDueAt: T0 });
  });

  it('a notice that ended meanwhile is left alone', async () => {
    const r = deliveryRig();
    const n = await r.noticeIn('delivered');
    const before = await r.store.get(n.id);
    await r.dispatcher.stepFailed(n.id, new Error('boom'));
    expect(await r.store.get(n.id)).toEqual(before);
  });

  it('a step that throws, handled as the work loop does, is counted', async () => {
    const r = deliveryRig();
    const n = await r.noticeIn('fallback_pending');
    const send = jest.spyOn(r.customerService, 'send').mockRejectedValueOnce(new Error('script refused'));
    await r.dispatcher.handle(n.id).catch((err: unknown) => r.dispatcher.stepFailed(n.id, err));
    expect(send).toHaveBeenCalledTimes(1);
    expect(await r.get(n.id)).toMatchObject({ status: 'fallback_pending', stepErrors: 1 });
    expect(r.api.sendText).not.toHaveBeenCalled();
  });
});
