import { TEMPLATE_SEND, calls } from '../helpers/emulator-calls';
import { API_KEY, TEMPLATES, USER, startHarness } from '../helpers/harness';
import { paid } from '../helpers/paid-notice';

describe('template health', () => {
  it('sync marks a deleted template invalid (keeping its content) and valid again when it reappears', async () => {
    const h = await startHarness();
    try {
      await h.emulator.control.userSendsText(USER, 'hi');
      h.emulator.control.deleteTemplate(TEMPLATES.seat_ready.id);
      await h.service.account().delivery.templates.sync();
      const list = async () =>
        ((await (await fetch(`${h.service.url}/v1/templates`, { headers: { authorization: `Bearer ${API_KEY}` } })).json()) as { templates: Array<Record<string, unknown>> }).templates;
      expect((await list()).find((t) => t.name === 'seat_ready')).toMatchObject({ valid: false, reason: 'missing from the template list', since: expect.any(String) });
      const { body } = await h.enqueue({ openid: USER, template: 'seat_ready', data: { movie: '流浪地球', seat: '7排8座' } });
      const n = await h.waitFor(body.id as string, 'fallback_sent');
      expect(n.text).toBe('取票提醒\n影片：流浪地球\n座位：7排8座'); // built from the last known content
      expect(calls(h, TEMPLATE_SEND)).toBe(0);
      h.emulator.control.addTemplate({ template_id: TEMPLATES.seat_ready.id, title: TEMPLATES.seat_ready.title, content: TEMPLATES.seat_ready.content });
      await h.service.account().delivery.templates.sync();
      expect((await list()).find((t) => t.name === 'seat_ready')).toMatchObject({ valid: true });
      const again = await h.enqueue({ openid: USER, template: 'seat_ready', data: { movie: '流浪地球', seat: '7排9座' } });
      await h.waitFor(again.body.id as string, 'delivered');
      const counts = (await list()).find((t) => t.name === 'seat_ready')?.counts as Record<string, number>;
      expect(counts).toMatchObject({ sent: 1, receipt_success: 1, fallback_sent: 1 });
    } finally {
      await h.close();
    }
  });

  it('a template configured with shortId heals itself once: re-added, and the new id is used', async () => {
    const h = await startHarness({
      config: (c) => ({ ...c, templates: { ...c.templates, order_paid: { ...c.templates.order_paid, shortId: TEMPLATES.order_paid.shortId } } }),
    });
    try {
      h.emulator.control.deleteTemplate(TEMPLATES.order_paid.id);
      await h.service.account().delivery.templates.sync();
      await h.service.account().delivery.templates.sync();
      expect(calls(h, '/cgi-bin/template/api_add_template')).toBe(1);
      const { body } = await h.enqueue(paid(1));
      const n = await h.waitFor(body.id as string, 'delivered');
      expect(n.templateId).not.toBe(TEMPLATES.order_paid.id);
      expect(h.logs()).toMatch(/template re-added from the library/);
    } finally {
      await h.close();
    }
  });

  it('records in the history what the user will see cut', async () => {
    const h = await startHarness();
    try {
      const { body } = await h.enqueue({ openid: USER, template: 'order_paid', data: { first: 'Thanks!', order_no: 'A-0000000000000000000000001', amount: '1' } });
      const n = await h.waitFor(body.id as string, 'delivered');
      const detail = JSON.stringify(n.history);
      expect(detail).toContain('first is not shown by WeChat since 2023');
      expect(detail).toContain('order_no is cut to 20 characters (27 given)');
    } finally {
      await h.close();
    }
  });
});
