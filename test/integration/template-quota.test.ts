import { TEMPLATE_SEND, calls } from '../helpers/emulator-calls';
import { USER, startHarness } from '../helpers/harness';
import { paid } from '../helpers/paid-notice';

describe('daily quota (45009)', () => {
  it('pauses template sends until midnight China time, routes to the fallback, and says so', async () => {
    const h = await startHarness({ emulator: { dailyTemplateQuota: 1 } });
    try {
      await h.emulator.control.userSendsText(USER, 'hi');
      await h.waitFor((await h.enqueue(paid(1))).body.id as string, 'delivered');
      const second = await h.enqueue(paid(2));
      const n = await h.waitFor(second.body.id as string, 'fallback_sent');
      expect(JSON.stringify(n.history)).toContain('45009');
      const sends = calls(h, TEMPLATE_SEND);
      const third = await h.enqueue(paid(3));
      const n3 = await h.waitFor(third.body.id as string, 'fallback_sent');
      expect(calls(h, TEMPLATE_SEND)).toBe(sends);
      expect(JSON.stringify(n3.history)).toMatch(/quota exhausted until \d{4}-\d\d-\d\dT16:00:00.000Z/);
      const ready = (await (await fetch(`${h.service.url}/readyz`)).json()) as Record<string, string>;
      expect(ready.templateQuota).toMatch(/paused until/);
      expect(h.logs()).toMatch(/daily template quota exhausted/);
    } finally {
      await h.close();
    }
  });
});
