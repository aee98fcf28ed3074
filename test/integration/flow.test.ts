import { TEMPLATES, USER, startHarness, type Harness } from '../helpers/harness';
import { postPush, receiptXml } from '../helpers/push';

const paid = { openid: USER, template: 'order_paid', data: { order_no: 'A1001', amount: '39.80' } };

describe('the patent flow against the emulator and a real Redis', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('delivers a template: receipt success → delivered, with the exact 19-digit msgid', async () => {
    const res = await h.enqueue(paid);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ id: expect.stringMatching(/^n[0-9a-f]{24}\.wx[0-9A-Za-z]+$/), status: 'queued' });
    const n = await h.waitFor(res.body.id as string, 'delivered');
    const inbox = h.emulator.control.inbox(USER);
    expect(inbox).toHaveLength(1);
    expect(inbox[0]).toMatchObject({ channel: 'template', template_id: TEMPLATES.order_paid.id, client_msg_id: res.body.id });
    // the msgid is above 2^53 and survives exactly, as a string
    expect(typeof n.msgid).toBe('string');
    expect(n.msgid).toBe(inbox[0].msgid);
    expect(BigInt(n.msgid as string) > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(n.channel).toBe('template');
    expect((n.history as Array<{ status: string }>).map((e) => e.status)).toEqual(['queued', 'awaiting_receipt', 'delivered']);
  });

  it('falls back to a customer-service text when the template was deleted', async () => {
    await h.emulator.control.userSendsText(USER, 'hi'); // opens the 48-hour window
    h.emulator.control.deleteTemplate(TEMPLATES.order_paid.id);
    const { body } = await h.enqueue({ ...paid, url: 'https://shop.example/orders/A1001' });
    const n = await h.waitFor(body.id as string, 'fallback_sent');
    expect(n.channel).toBe('customer_service');
    const inbox = h.emulator.control.inbox(USER);
    expect(inbox.map((e) => [e.channel, e.text])).toEqual([['customer_service', 'Your order A1001 is paid: 39.80. https://shop.example/orders/A1001']]);
    expect(JSON.stringify(n.history)).toContain('40037');
    // the template is now known invalid: the next notification makes no template call
    const before = h.emulator.control.stats().calls['/cgi-bin/message/template/send'] ?? 0;
    const second = await h.enqueue({ ...paid, data: { order_no: 'A1002', amount: '1.00' } });
    await h.waitFor(second.body.id as string, 'fallback_sent');
    expect(h.emulator.control.stats().calls['/cgi-bin/message/template/send'] ?? 0).toBe(before);
  });

  it('builds the fallback from the template content when no pattern is configured', async () => {
    await h.emulator.control.userSendsText(USER, 'hi');
    h.emulator.control.refuseTemplate(USER, TEMPLATES.seat_ready.id);
    const { body } = await h.enqueue({ openid: USER, template: 'seat_ready', data: { first: '您好', movie: '流浪地球', seat: '7排8座' } });
    const n = await h.waitFor(body.id as string, 'fallback_sent');
    expect(n.text).toBe('取票提醒\n您好\n影片：流浪地球\n座位：7排8座');
    expect(JSON.stringify(n.history)).toContain('43101');
  });

  it.each(['failed:user block', 'failed: system failed'])('receipt "%s" → fallback', async (status) => {
    await h.emulator.control.userSendsText(USER, 'hi');
    h.emulator.control.setReceiptOutcome({ openid: USER, outcome: status as 'failed:user block' });
    const { body } = await h.enqueue(paid);
    const n = await h.waitFor(body.id as string, 'fallback_sent');
    expect(n.reason).toBe(`receipt: ${status}`);
    // a failed receipt means the card never reached the user: only the text did
    expect(h.emulator.control.inbox(USER).map((e) => e.channel)).toEqual(['customer_service']);
  });

  it('the same failed receipt pushed 4 times at once → exactly one customer-service message', async () => {
    await h.emulator.control.userSendsText(USER, 'hi');
    h.emulator.control.setReceiptOutcome({ openid: USER, outcome: 'none' });
    const { body } = await h.enqueue(paid);
    const { msgid } = await h.waitFor(body.id as string, 'awaiting_receipt');
    const xml = receiptXml(USER, msgid as string, 'failed:user block');
    const answers = await Promise.all([1, 2, 3, 4].map(() => postPush(h.service.url, xml, { token: h.config.wechat.token as string })));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(answers.every((a) => a.text === 'success')).toBe(true);
    await h.waitFor(body.id as string, 'fallback_sent');
    await new Promise((r) => setTimeout(r, 200));
    expect(h.emulator.control.inbox(USER).filter((e) => e.channel === 'customer_service')).toHaveLength(1);
  });

  it('matches a receipt that arrives before the send call answered', async () => {
    h.emulator.control.setReceiptOutcome({ openid: USER, outcome: 'before_answer' });
    const { body } = await h.enqueue(paid);
    const n = await h.waitFor(body.id as string, 'delivered');
    expect(JSON.stringify(n.history)).toContain('receipt for msgid');
  });

  it('a late receipt after a terminal status changes nothing but the history', async () => {
    const { body } = await h.enqueue(paid);
    const n = await h.waitFor(body.id as string, 'delivered');
    await postPush(h.service.url, receiptXml(USER, n.msgid as string, 'failed: system failed'), { token: h.config.wechat.token as string });
    const after = await h.get(body.id as string);
    expect(after.status).toBe('delivered');
    expect(JSON.stringify(after.history)).toMatch(/late receipt .*changed nothing/);
    expect(h.emulator.control.inbox(USER)).toHaveLength(1);
  });

  it('ends as failed, without a customer-service call, when the user does not follow', async () => {
    h.emulator.control.addUser({ openid: 'oGONE_user_000001', subscribed: false });
    const { body } = await h.enqueue({ ...paid, openid: 'oGONE_user_000001' });
    const n = await h.waitFor(body.id as string, 'failed');
    expect(n.reason).toBe('not_a_follower');
    expect(h.emulator.control.stats().calls['/cgi-bin/message/custom/send'] ?? 0).toBe(0);
  });
});

describe('safe mode end to end', () => {
  it('receives encrypted receipts and answers encrypted passive replies', async () => {
    const h = await startHarness({ emulator: { aesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG' } });
    try {
      const { body } = await h.enqueue(paid);
      await h.waitFor(body.id as string, 'delivered');
      // a parked notice rides on the encrypted passive reply to the user's next message
      h.emulator.control.deleteTemplate(TEMPLATES.order_paid.id);
      h.emulator.control.addUser({ openid: 'oQUIET_user_00001' });
      const second = await h.enqueue({ ...paid, openid: 'oQUIET_user_00001' });
      await h.waitFor(second.body.id as string, 'awaiting_interaction');
      const reply = await h.emulator.control.userSendsText('oQUIET_user_00001', 'any news?');
      expect(reply.error).toBeUndefined();
      expect(reply.reply).toBe('Your order A1001 is paid: 39.80.');
      expect(reply.raw).toContain('<Encrypt>');
      const n = await h.get(second.body.id as string);
      expect(n).toMatchObject({ status: 'fallback_sent', channel: 'passive_reply' });
    } finally {
      await h.close();
    }
  });
});
