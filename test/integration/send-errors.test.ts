import { TEMPLATE_SEND, calls } from '../helpers/emulator-calls';
import { USER, sleep, startHarness } from '../helpers/harness';
import { paid } from '../helpers/paid-notice';

describe('transient errors', () => {
  it.each([
    ['errcode -1', { errcodeRate: 1 }],
    ['errcode 45011', { errcodeRate: 1, errcode: 45011 }],
  ])('%s: retried with the same client_msg_id, then the fallback after maxAttempts', async (_name, faults) => {
    const h = await startHarness();
    try {
      await h.emulator.control.userSendsText(USER, 'hi');
      h.emulator.control.setFaults({ ...faults, paths: [TEMPLATE_SEND] });
      const { body } = await h.enqueue(paid(1));
      const n = await h.waitFor(body.id as string, 'fallback_sent');
      expect(calls(h, TEMPLATE_SEND)).toBe(3); // retry.maxAttempts in the harness
      expect(JSON.stringify(n.history)).toMatch(/gave up after 3 attempts/);
    } finally {
      await h.close();
    }
  });

  it.each([
    ['HTTP 502', { http5xxRate: 1 }],
    ['dropped connections', { dropRate: 1 }],
  ])('%s: waits for WeChat without using attempts or falling back, then sends with the same client_msg_id', async (_name, faults) => {
    const h = await startHarness();
    try {
      await h.emulator.control.userSendsText(USER, 'hi');
      h.emulator.control.setFaults({ ...faults, paths: [TEMPLATE_SEND] });
      const { body } = await h.enqueue(paid(1));
      const id = body.id as string;
      await sleep(1500);
      expect(calls(h, TEMPLATE_SEND)).toBeGreaterThanOrEqual(1); // the fault fired
      const waiting = await h.get(id);
      expect(waiting.status).toBe('queued');
      expect(JSON.stringify(waiting.history)).toMatch(/wechat_unreachable: .*; waiting for WeChat/);
      h.emulator.control.setFaults({});
      await h.waitFor(id, 'delivered', 15000);
      const inbox = h.emulator.control.inbox(USER);
      expect(inbox.map((e) => [e.channel, e.client_msg_id])).toEqual([['template', id]]);
    } finally {
      await h.close();
    }
  });

  it('a flaky API still gives each notice exactly one template message', async () => {
    const h = await startHarness({ config: (c) => ({ ...c, retry: { maxAttempts: 10, baseDelayMs: 5 } }) });
    try {
      // 30% of calls fail: with 10 attempts a notice falls back with odds of 0.3^10 (6 in a million)
      h.emulator.control.setFaults({ errcodeRate: 0.2, dropRate: 0.1, paths: [TEMPLATE_SEND] });
      const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => h.enqueue(paid(i)).then((r) => r.body.id as string)));
      for (const id of ids) await h.waitFor(id, 'delivered', 15000);
      const template = h.emulator.control.inbox(USER).filter((e) => e.channel === 'template');
      expect(template.map((e) => e.client_msg_id).sort()).toEqual([...ids].sort());
    } finally {
      await h.close();
    }
  });
});

describe('errcodes that end the template path', () => {
  it.each([
    [48001, 'fallback_sent', 'template_unusable: errcode 48001'],
    [48004, 'fallback_sent', 'template_unusable: errcode 48004'],
    [43019, 'failed', 'blacklisted'],
  ])('errcode %i → %s', async (errcode, status, reason) => {
    const h = await startHarness();
    try {
      await h.emulator.control.userSendsText(USER, 'hi');
      h.emulator.control.setFaults({ paths: [TEMPLATE_SEND], errcodeRate: 1, errcode });
      const { body } = await h.enqueue(paid(1));
      const n = await h.waitFor(body.id as string, status as 'failed');
      expect(JSON.stringify(n)).toContain(reason);
      expect(calls(h, TEMPLATE_SEND)).toBe(1);
      const templates = await h.service.account().delivery.templates.overview();
      expect(templates.find((t) => t.name === 'order_paid')?.valid).toBe(status === 'failed');
    } finally {
      await h.close();
    }
  });

  it('an OpenID the account does not know (40003) → failed, no customer-service call', async () => {
    const h = await startHarness();
    try {
      const { body } = await h.enqueue(paid(1, 'oNOBODY_known_0001'));
      const n = await h.waitFor(body.id as string, 'failed');
      expect(n.reason).toBe('invalid_openid');
      expect(calls(h, '/cgi-bin/message/custom/send')).toBe(0);
    } finally {
      await h.close();
    }
  });
});

describe('bad data (47003)', () => {
  it('falls back (the text still carries the information) and the history names the field', async () => {
    const h = await startHarness();
    try {
      await h.emulator.control.userSendsText(USER, 'hi');
      const { body } = await h.enqueue({ openid: USER, template: 'order_paid', data: { order_no: 'A9' } });
      const n = await h.waitFor(body.id as string, 'fallback_sent');
      expect(JSON.stringify(n.history)).toContain('bad_data: argument invalid! data.amount.value is empty');
      expect(n.text).toBe('Order paid\nOrder: A9'); // the pattern names a missing field: the template content serves
    } finally {
      await h.close();
    }
  });
});
