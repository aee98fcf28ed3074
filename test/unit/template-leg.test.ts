import { WechatApiError, WechatTransportError } from '../../src/wechat/api-errors';
import { ERRCODE } from '../../src/wechat/errcodes';
import { deliveryRig, receiptPush, REQUEST, SETTINGS, T0, TEMPLATE_ID, TEXT, USER, type DeliveryRig } from '../helpers/delivery-rig';

const SEND_PATH = '/cgi-bin/message/template/send';
const refusal = (errcode: number) => new WechatApiError(errcode, `errmsg ${errcode} rid: 1`, SEND_PATH);
const RECEIPT_DUE = T0 + SETTINGS.receiptTimeoutSeconds * 1000;

/** History details of a notice, oldest first. */
const details = async (r: DeliveryRig, id: string) => (await r.get(id)).history.map((h) => h.detail);
/** The statistics of the test template (GET /v1/templates counts). */
const counts = async (r: DeliveryRig) => (await r.templates.overview())[0].counts;

/** A notice the template leg has sent (awaiting its receipt), with msgid `msgid`. */
async function sent(r: DeliveryRig, msgid = '2000000001') {
  r.api.sendTemplate.mockResolvedValueOnce(msgid);
  const n = await r.accept();
  await r.templateLeg.send(n);
  expect((await r.get(n.id)).status).toBe('awaiting_receipt');
  return n;
}

describe('TemplateLeg.send', () => {
  it('WeChat accepts: awaiting_receipt with the msgid, due at the receipt deadline, no text', async () => {
    const r = deliveryRig();
    r.api.sendTemplate.mockResolvedValueOnce('2000000001');
    const n = await r.accept({ url: 'https://shop.example/o/A1' });
    await r.templateLeg.send(n);

    expect(r.api.sendTemplate.mock.calls).toEqual([[{ touser: USER, template_id: TEMPLATE_ID, client_msg_id: n.id, data: REQUEST.data, url: 'https://shop.example/o/A1' }]]);
    expect(await r.get(n.id)).toMatchObject({ status: 'awaiting_receipt', msgid: '2000000001', templateId: TEMPLATE_ID, channel: 'template', receiptDueAt: RECEIPT_DUE });
    expect(r.api.sendText).not.toHaveBeenCalled();
    await expect(r.schedule.scheduleInfo()).resolves.toEqual({ size: 1, nextDueAt: RECEIPT_DUE });
    expect(await counts(r)).toEqual({ sent: 1 });
  });

  it('40037: the template is marked invalid and the customer-service text goes out in the same step', async () => {
    const r = deliveryRig();
    r.api.sendTemplate.mockRejectedValueOnce(refusal(ERRCODE.INVALID_TEMPLATE_ID));
    const n = await r.accept();
    await r.templateLeg.send(n);

    expect(r.api.sendTemplate).toHaveBeenCalledTimes(1);
    await expect(r.templates.state(TEMPLATE_ID)).resolves.toMatchObject({ valid: false, reason: 'template_unusable: errcode 40037' });
    expect(r.api.sendText.mock.calls).toEqual([[USER, TEXT]]);
    expect(await r.get(n.id)).toMatchObject({ status: 'fallback_sent', channel: 'customer_service', text: TEXT, templateId: TEMPLATE_ID });
    expect(await details(r, n.id)).toEqual(['accepted', 'template path failed: template_unusable: errcode 40037', 'customer-service text accepted']);
    await expect(r.schedule.scheduleInfo()).resolves.toEqual({ size: 0, nextDueAt: null });

    // The next notice of that template skips the template call.
    const next = await r.accept();
    await r.templateLeg.send(next);
    expect(r.api.sendTemplate).toHaveBeenCalledTimes(1);
    expect(r.api.sendText).toHaveBeenCalledTimes(2);
    expect((await r.get(next.id)).status).toBe('fallback_sent');
    expect((await details(r, next.id))[1]).toMatch(/^template path failed: template TPL_ORDER_PAID_000000001 is invalid \(template_unusable: errcode 40037\): no template call$/);
  });

  it('43004: failed not_a_follower, no customer-service call', async () => {
    const r = deliveryRig();
    r.api.sendTemplate.mockRejectedValueOnce(refusal(ERRCODE.REQUIRE_SUBSCRIBE));
    const n = await r.accept();
    await r.templateLeg.send(n);

    expect(r.api.sendTemplate).toHaveBeenCalledTimes(1);
    expect(r.api.sendText).not.toHaveBeenCalled();
    expect(await r.get(n.id)).toMatchObject({ status: 'failed', reason: 'not_a_follower' });
    await expect(r.schedule.scheduleInfo()).resolves.toEqual({ size: 0, nextDueAt: null });
  });

  it('45009: template sends pause for every notice and the text goes out instead', async () => {
    const r = deliveryRig();
    r.api.sendTemplate.mockRejectedValueOnce(refusal(ERRCODE.DAILY_QUOTA_EXHAUSTED));
    const n = await r.accept();
    await r.templateLeg.send(n);

    expect(r.api.sendTemplate).toHaveBeenCalledTimes(1);
    await expect(r.quota.pausedUntil()).resolves.toBeGreaterThan(T0);
    expect(await r.get(n.id)).toMatchObject({ status: 'fallback_sent', channel: 'customer_service' });
    const next = await r.accept();
    await r.templateLeg.send(next);
    expect(r.api.sendTemplate).toHaveBeenCalledTimes(1);
    expect(r.api.sendText).toHaveBeenCalledTimes(2);
    expect((await details(r, next.id))[1]).toMatch(/^template path failed: daily template quota exhausted until .*: no template call$/);
  });

  it('-1 (busy): tried again later, then the text after the last attempt', async () => {
    const r = deliveryRig();
    r.api.sendTemplate.mockRejectedValue(refusal(ERRCODE.SYSTEM_BUSY));
    const n = await r.accept();
    await r.templateLeg.send(n);
    const retried = await r.get(n.id);
    expect(retried).toMatchObject({ status: 'queued', attempts: 1 });
    expect(r.api.sendText).not.toHaveBeenCalled();

    await r.templateLeg.send(retried);
    await r.templateLeg.send(await r.get(n.id));
    expect(r.api.sendTemplate).toHaveBeenCalledTimes(SETTINGS.retry.maxAttempts);
    // The same client_msg_id every time: WeChat sends one message for it at most.
    expect(new Set(r.api.sendTemplate.mock.calls.map(([m]) => m.client_msg_id))).toEqual(new Set([n.id]));
    expect(await r.get(n.id)).toMatchObject({ status: 'fallback_sent', attempts: SETTINGS.retry.maxAttempts });
    expect(r.api.sendText).toHaveBeenCalledTimes(1);
  });

  it('no answer from WeChat: waits without using up an attempt, and without the text', async () => {
    const r = deliveryRig();
    r.api.sendTemplate.mockRejectedValueOnce(new WechatTransportError(SEND_PATH, 'maybe', 'timeout'));
    const n = await r.accept();
    await r.templateLeg.send(n);

    expect(r.api.sendTemplate).toHaveBeenCalledTimes(1);
    expect(await r.get(n.id)).toMatchObject({ status: 'queued', attempts: 0, waiting: `queued@${T0}` });
    expect(r.api.sendText).not.toHaveBeenCalled();
  });
});

describe('a receipt (through the push intake, one store step each)', () => {
  it('success: delivered, off the schedule, no work due', async () => {
    const r = deliveryRig();
    const n = await sent(r);
    await expect(r.intake.handle(receiptPush(USER, '2000000001', 'success'))).resolves.toEqual({ workDue: false });

    expect(await r.get(n.id)).toMatchObject({ status: 'delivered', channel: 'template' });
    expect((await details(r, n.id)).at(-1)).toBe('receipt for msgid 2000000001: success');
    await expect(r.schedule.scheduleInfo()).resolves.toEqual({ size: 0, nextDueAt: null });
    expect(await counts(r)).toEqual({ sent: 1, receipt_success: 1 });
    expect(r.api.sendText).not.toHaveBeenCalled();
  });

  it('a failed receipt: fallback_pending and due now, work due', async () => {
    const r = deliveryRig();
    const n = await sent(r);
    await expect(r.intake.handle(receiptPush(USER, '2000000001', 'failed:user block'))).resolves.toEqual({ workDue: true });

    expect(await r.get(n.id)).toMatchObject({ status: 'fallback_pending', reason: 'receipt: failed:user block' });
    await expect(r.claim()).resolves.toEqual([n.id]);
    expect(await counts(r)).toEqual({ sent: 1, receipt_user_block: 1 });
    // The text itself is the work loop's next step.
    expect(r.api.sendText).not.toHaveBeenCalled();
  });

  /** An openid whose data sits in the same store shard as USER's (ids carry the shard), or in another one. */
  const neighbour = (r: DeliveryRig, sameShard: boolean) => {
    const shard = (openid: string) => r.store.newId(openid).slice(1, 3);
    for (let i = 0; ; i++) if ((shard(`oOTHER_user_${i}`) === shard(USER)) === sameShard) return `oOTHER_user_${i}`;
  };

  it('a receipt from another openid changes nothing but the history (msgid links are kept per shard of users)', async () => {
    const r = deliveryRig();
    const n = await sent(r);
    const before = await r.get(n.id);
    await r.intake.handle(receiptPush(neighbour(r, true), '2000000001', 'failed:user block'));

    const after = await r.get(n.id);
    expect({ ...after, history: [] }).toEqual({ ...before, history: [] });
    expect(after.history.slice(0, -1)).toEqual(before.history);
    expect(after.history.at(-1)).toMatchObject({ status: 'awaiting_receipt', detail: 'receipt for msgid 2000000001 from another user ignored; changed nothing' });
    await expect(r.schedule.scheduleInfo()).resolves.toEqual({ size: 1, nextDueAt: RECEIPT_DUE });
  });

  it('a receipt from an openid of another shard does not even find the notice', async () => {
    const r = deliveryRig();
    const n = await sent(r);
    const before = await r.get(n.id);
    await expect(r.intake.handle(receiptPush(neighbour(r, false), '2000000001', 'failed:user block'))).resolves.toEqual({ workDue: false });
    expect(await r.get(n.id)).toEqual(before);
    await expect(r.schedule.scheduleInfo()).resolves.toEqual({ size: 1, nextDueAt: RECEIPT_DUE });
  });

  it('a late receipt (the notice already moved on) only leaves a history line', async () => {
    const r = deliveryRig();
    const n = await sent(r);
    await r.intake.handle(receiptPush(USER, '2000000001', 'success'));
    await r.intake.handle(receiptPush(USER, '2000000001', 'failed: system failed'));

    expect((await r.get(n.id)).status).toBe('delivered');
    expect((await details(r, n.id)).at(-1)).toBe('late receipt for msgid 2000000001: failed: system failed; changed nothing');
  });

  it('a receipt for an unknown msgid is kept, and applied when the send links that msgid', async () => {
    const r = deliveryRig();
    const n = await r.accept();
    r.api.sendTemplate.mockImplementationOnce(async () => {
      // WeChat's receipt overtakes the answer to the send.
      await expect(r.intake.handle(receiptPush(USER, '2000000009', 'success'))).resolves.toEqual({ workDue: false });
      expect((await r.get(n.id)).status).toBe('queued');
      return '2000000009';
    });
    await r.templateLeg.send(n);

    expect(r.api.sendTemplate).toHaveBeenCalledTimes(1);
    expect(await r.get(n.id)).toMatchObject({ status: 'delivered', msgid: '2000000009' });
    expect(await details(r, n.id)).toEqual(['accepted', 'template TPL_ORDER_PAID_000000001 accepted, msgid 2000000009', 'receipt for msgid 2000000009: success']);
    await expect(r.schedule.scheduleInfo()).resolves.toEqual({ size: 0, nextDueAt: null });
  });

  it('an early failed receipt sends the notice on to the text once linked', async () => {
    const r = deliveryRig();
    const n = await r.accept();
    r.api.sendTemplate.mockImplementationOnce(async () => {
      await r.intake.handle(receiptPush(USER, '2000000010', 'failed: system failed'));
      return '2000000010';
    });
    await r.templateLeg.send(n);

    expect(r.api.sendTemplate).toHaveBeenCalledTimes(1);
    expect(await r.get(n.id)).toMatchObject({ status: 'fallback_pending', reason: 'receipt: failed: system failed' });
    await expect(r.claim()).resolves.toEqual([n.id]);
  });
});

describe('TemplateLeg.receiptDeadline', () => {
  it('an early receipt handed to a send that died before applying it is found at the deadline: delivered, no text', async () => {
    const r = deliveryRig();
    const n = await r.accept();
    // the receipt beat the send's answer and was stashed ...
    await expect(r.intake.handle(receiptPush(USER, '2000000001', 'success'))).resolves.toEqual({ workDue: false });
    // ... the sending instance linked the msgid and recorded the send, then died before applying it
    await r.store.linkMsgid('2000000001', n.id, SETTINGS.msgidSeconds);
    await r.lifecycle.move('sent', n, { detail: 'sent', set: { msgid: '2000000001', receiptDueAt: String(RECEIPT_DUE) }, dueAt: RECEIPT_DUE });
    r.advance(SETTINGS.receiptTimeoutSeconds * 1000);
    await r.templateLeg.receiptDeadline(await r.get(n.id));
    expect(await r.get(n.id)).toMatchObject({ status: 'delivered' });
    expect(r.api.sendText).not.toHaveBeenCalled();
  });

  it('onTimeout fallback: no receipt in time sends the text in the same step', async () => {
    const r = deliveryRig({ onTimeout: 'fallback' });
    const n = await sent(r);
    r.advance(SETTINGS.receiptTimeoutSeconds * 1000);
    await r.templateLeg.receiptDeadline(await r.get(n.id));

    expect(r.api.sendText.mock.calls).toEqual([[USER, TEXT]]);
    expect(await r.get(n.id)).toMatchObject({ status: 'fallback_sent', channel: 'customer_service', reason: 'no_receipt' });
    expect(await details(r, n.id)).toContain(`template path failed: no receipt within ${SETTINGS.receiptTimeoutSeconds} s`);
  });

  it('onTimeout assume_delivered: delivered (reason no_receipt), no text', async () => {
    const r = deliveryRig({ onTimeout: 'assume_delivered' });
    const n = await sent(r);
    r.advance(SETTINGS.receiptTimeoutSeconds * 1000);
    await r.templateLeg.receiptDeadline(await r.get(n.id));

    expect(r.api.sendText).not.toHaveBeenCalled();
    expect(await r.get(n.id)).toMatchObject({ status: 'delivered', reason: 'no_receipt' });
    await expect(r.schedule.scheduleInfo()).resolves.toEqual({ size: 0, nextDueAt: null });
  });

  it('while WeChat is unreachable, no verdict: looked at again later, one history line', async () => {
    const r = deliveryRig({ onTimeout: 'fallback' });
    const n = await sent(r);
    for (let i = 0; i < 5; i += 1) r.breaker.failed();
    expect(r.breaker.view().state).toBe('open');
    r.advance(SETTINGS.receiptTimeoutSeconds * 1000);
    await r.templateLeg.receiptDeadline(await r.get(n.id));
    await r.templateLeg.receiptDeadline(await r.get(n.id));

    expect(r.api.sendText).not.toHaveBeenCalled();
    const after = await r.get(n.id);
    expect(after.status).toBe('awaiting_receipt');
    expect(after.history.filter((h) => h.detail.includes('WeChat is unreachable'))).toHaveLength(1);
    await expect(r.schedule.scheduleInfo()).resolves.toMatchObject({ nextDueAt: r.now() + 5000 });
  });

  it('no verdict for 15 s after the store was unreachable (receipts held meanwhile are still arriving), then the policy decides', async () => {
    const r = deliveryRig({ onTimeout: 'fallback' });
    const n = await sent(r);
    r.advance(SETTINGS.receiptTimeoutSeconds * 1000);
    const awayAt = r.now() - 1000;
    const unreachable = jest.spyOn(r.schedule, 'lastUnreachableAt').mockReturnValue(awayAt);
    await r.templateLeg.receiptDeadline(await r.get(n.id));
    expect(unreachable).toHaveBeenCalled();
    expect(r.api.sendText).not.toHaveBeenCalled();
    expect((await r.get(n.id)).status).toBe('awaiting_receipt');
    expect(await details(r, n.id)).toContain(`no receipt within ${SETTINGS.receiptTimeoutSeconds} s, but the store was unreachable moments ago: receipts that came meanwhile are still arriving`);
    await expect(r.schedule.scheduleInfo()).resolves.toMatchObject({ nextDueAt: awayAt + 15_000 });

    r.advance(15_000);
    await r.templateLeg.receiptDeadline(await r.get(n.id));
    expect(r.api.sendText.mock.calls).toEqual([[USER, TEXT]]);
    expect((await r.get(n.id)).status).toBe('fallback_sent');
  });
});
