import { capturedLogger } from '../helpers/logs';
import { startService } from '../../src/service';
import { calls } from '../helpers/emulator-calls';
import { APP, USER, sleep, startHarness } from '../helpers/harness';
import { paid } from '../helpers/paid-notice';
import { postPush, receiptXml } from '../helpers/push';

describe('receipt timeouts', () => {
  it('no receipt → fallback after receipt.timeoutSeconds; a late receipt changes nothing', async () => {
    const h = await startHarness({ config: (c) => ({ ...c, receipt: { timeoutSeconds: 1, onTimeout: 'fallback' } }) });
    try {
      await h.emulator.control.userSendsText(USER, 'hi');
      h.emulator.control.setReceiptOutcome({ openid: USER, outcome: 'none' });
      const { body } = await h.enqueue(paid(1));
      // 1 s of waiting for the receipt, then the text: the rest is room for a busy machine
      const n = await h.waitFor(body.id as string, 'fallback_sent', 8000);
      expect(n.reason).toBe('no_receipt');
      await postPush(h.service.url, receiptXml(USER, n.msgid as string, 'success'), { token: APP.token });
      const after = await h.get(body.id as string);
      expect(after.status).toBe('fallback_sent');
      expect(JSON.stringify(after.history)).toMatch(/late receipt/);
    } finally {
      await h.close();
    }
  });

  it('assume_delivered → delivered with reason no_receipt, and no customer-service call', async () => {
    const h = await startHarness({ config: (c) => ({ ...c, receipt: { timeoutSeconds: 1, onTimeout: 'assume_delivered' } }) });
    try {
      h.emulator.control.setReceiptOutcome({ openid: USER, outcome: 'none' });
      const { body } = await h.enqueue(paid(1));
      const n = await h.waitFor(body.id as string, 'delivered', 4000);
      expect(n.reason).toBe('no_receipt');
      expect(calls(h, '/cgi-bin/message/custom/send')).toBe(0);
    } finally {
      await h.close();
    }
  });

  it('survives a restart: each waiting notice times out exactly once', async () => {
    const h = await startHarness({ config: (c) => ({ ...c, receipt: { timeoutSeconds: 1, onTimeout: 'fallback' } }) });
    try {
      await h.emulator.control.userSendsText(USER, 'hi');
      h.emulator.control.setReceiptOutcome({ openid: USER, outcome: 'none' });
      const ids = await Promise.all([1, 2, 3, 4].map((i) => h.enqueue(paid(i)).then((r) => r.body.id as string)));
      for (const id of ids) await h.waitFor(id, 'awaiting_receipt');
      await h.service.stop();
      const again = await startService({ config: h.config, store: h.store, log: capturedLogger('error').log });
      try {
        for (const id of ids) {
          const n = (await again.account().delivery.notifications.get(id)) ?? { status: 'missing' };
          expect(['awaiting_receipt', 'fallback_pending', 'fallback_sent']).toContain(n.status);
        }
        for (let i = 0; i < 200 && (await Promise.all(ids.map((id) => again.account().delivery.notifications.get(id)))).some((n) => n?.status !== 'fallback_sent'); i++) await sleep(20);
        for (const id of ids) {
          const n = await again.account().delivery.notifications.get(id);
          expect(n?.status).toBe('fallback_sent');
          expect(n?.history.filter((e) => /no receipt within/.test(e.detail))).toHaveLength(1);
        }
        expect(h.emulator.control.inbox(USER).filter((e) => e.channel === 'customer_service')).toHaveLength(4);
      } finally {
        await again.stop();
      }
    } finally {
      await h.emulator.close();
      await h.store.close();
    }
  });
});
