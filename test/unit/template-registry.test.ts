import { TemplateRegistry } from '../../src/delivery/template-registry';
import { MemoryStore } from '../../src/store/memory-store';
import { WechatApiError } from '../../src/wechat/api-errors';
import { fakeWechat, T0 } from '../helpers/delivery-rig';
import { capturedLogger } from '../helpers/logs';

const OLD_ID = 'TPL_ORDER_PAID_000000001';
const NEW_ID = 'TPL_ORDER_PAID_000000002';
const LISTED = { template_id: OLD_ID, title: 'Order paid', content: 'Order: {{order_no.DATA}}' };

function registry() {
  const store = new MemoryStore({ now: () => T0 }).forAccount('wxtemplates000001');
  const api = fakeWechat();
  const { log, text } = capturedLogger();
  const templates = new TemplateRegistry(store, api, { order_paid: { id: OLD_ID, shortId: 'TM00015' } }, 30 * 86_400, log, () => T0);
  return { store, api, templates, logs: text };
}

describe('TemplateRegistry', () => {
  it('sync: a listed template is valid with its content; one missing is invalid and keeps its content', async () => {
    const { api, templates } = registry();
    api.listTemplates.mockResolvedValueOnce([LISTED]);
    await templates.sync();
    await expect(templates.state(OLD_ID)).resolves.toMatchObject({ valid: true, title: 'Order paid', content: 'Order: {{order_no.DATA}}' });

    api.listTemplates.mockResolvedValueOnce([]); // the sync's list
    api.listTemplates.mockResolvedValueOnce([]); // the list read after re-adding
    api.addTemplate.mockResolvedValueOnce(NEW_ID);
    await templates.sync();
    expect(api.listTemplates).toHaveBeenCalledTimes(3);
    await expect(templates.state(OLD_ID)).resolves.toMatchObject({ valid: false, reason: 'missing from the template list', content: 'Order: {{order_no.DATA}}' });
  });

  it('a configured template with a shortId that vanished is re-added once and its name follows the new id', async () => {
    const { api, templates } = registry();
    api.addTemplate.mockResolvedValueOnce(NEW_ID);
    api.listTemplates.mockResolvedValueOnce([]).mockResolvedValueOnce([{ ...LISTED, template_id: NEW_ID }]);
    await templates.sync();

    expect(api.addTemplate.mock.calls).toEqual([['TM00015']]);
    await expect(templates.resolve('order_paid')).resolves.toMatchObject({ templateId: NEW_ID });
    await expect(templates.state(NEW_ID)).resolves.toMatchObject({ valid: true, content: 'Order: {{order_no.DATA}}' });

    // The old id stays missing: not re-added a second time.
    api.listTemplates.mockResolvedValueOnce([{ ...LISTED, template_id: NEW_ID }]);
    await templates.sync();
    expect(api.addTemplate).toHaveBeenCalledTimes(1);
  });

  it('a re-add that fails is tried again at the next sync', async () => {
    const { api, templates, logs } = registry();
    api.listTemplates.mockResolvedValue([]);
    api.addTemplate.mockRejectedValueOnce(new WechatApiError(45026, 'too many templates', '/cgi-bin/template/api_add_template'));
    await templates.sync();
    expect(api.addTemplate).toHaveBeenCalledTimes(1);
    await expect(templates.resolve('order_paid')).resolves.toMatchObject({ templateId: OLD_ID });
    expect(logs()).toContain('template could not be added; trying again at the next sync');

    api.addTemplate.mockResolvedValueOnce(NEW_ID);
    await templates.sync();
    expect(api.addTemplate).toHaveBeenCalledTimes(2);
    await expect(templates.resolve('order_paid')).resolves.toMatchObject({ templateId: NEW_ID });
  });

  it('a template marked invalid is valid again once listed', async () => {
    const { api, templates } = registry();
    await templates.markInvalid(OLD_ID, 'template_unusable: errcode 40037');
    await expect(templates.state(OLD_ID)).resolves.toMatchObject({ valid: false });
    api.listTemplates.mockResolvedValueOnce([LISTED]);
    await templates.sync();
    await expect(templates.state(OLD_ID)).resolves.toMatchObject({ valid: true, reason: '' });
  });

  it("keeps each name's validity changes and healings for GET /v1/templates, newest first", async () => {
    const { api, templates } = registry();
    const at = new Date(T0).toISOString();
    await templates.markInvalid(OLD_ID, 'template_unusable: errcode 40037');
    api.listTemplates.mockResolvedValueOnce([LISTED]);
    await templates.sync(); // listed again: valid
    api.listTemplates.mockResolvedValueOnce([]).mockResolvedValueOnce([{ ...LISTED, template_id: NEW_ID }]);
    api.addTemplate.mockResolvedValueOnce(NEW_ID);
    await templates.sync(); // gone from the list: invalid, then re-added under a new id
    await expect(templates.events('order_paid')).resolves.toEqual([
      { at, valid: true, reason: 're-added from the library by its short id TM00015', healedTo: NEW_ID },
      { at, valid: false, reason: 'missing from the template list' },
      { at, valid: true },
      { at, valid: false, reason: 'template_unusable: errcode 40037' },
    ]);
    expect((await templates.overview())[0]).toMatchObject({ name: 'order_paid', templateId: NEW_ID, valid: true, events: await templates.events('order_paid') });
    // an id no configured name means keeps no events
    await templates.markInvalid('TPL_RAW_0000000009', 'template_unusable: errcode 40037');
    await expect(templates.events('order_paid')).resolves.toHaveLength(4);
  });

  it('a raw template id: taken on trust before the first sync, known only from the list after it', async () => {
    const { api, templates } = registry();
    await expect(templates.resolve('TPL_RAW_0000000001')).resolves.toEqual({ templateId: 'TPL_RAW_0000000001' });
    await expect(templates.resolve('not an id')).resolves.toBeNull();
    api.listTemplates.mockResolvedValueOnce([LISTED, { template_id: 'TPL_RAW_0000000002', title: 'Raw', content: '{{a.DATA}}' }]);
    await templates.sync();
    await expect(templates.resolve('TPL_RAW_0000000002')).resolves.toEqual({ templateId: 'TPL_RAW_0000000002' });
    await expect(templates.resolve('TPL_RAW_0000000001')).resolves.toBeNull();
    // Names are the config's own: Object.prototype's members are not templates.
    await expect(templates.resolve('constructor')).resolves.toBeNull();
  });

  it('counts: the statistics of the notices sent under the name and under its id, over the days the statistics keep', async () => {
    const { store, templates } = registry();
    const DAY_S = 86_400;
    const counted = async (subject: string, at: number, counters: string[]) => {
      const id = store.newId('oUSER_counts_0001');
      const tally = { at, subject, counters: ['accepted'], keepSeconds: 30 * DAY_S };
      await store.create(id, { status: 'queued', template: subject }, { at: new Date(at).toISOString(), status: 'queued', detail: 'accepted' }, { ttlSeconds: DAY_S, tally });
      await store.move(id, { from: ['queued'], to: 'fallback_sent', tally: { ...tally, counters } });
    };
    await counted('order_paid', T0 - 2 * DAY_S * 1000, ['template.sent', 'receipt.success', 'delivered']);
    await counted('order_paid', T0, ['template.sent', 'receipt.user_block', 'fallback_sent.customer_service', 'window.open']);
    await counted(OLD_ID, T0, ['template.sent', 'receipt.none', 'fallback_sent.passive_reply']);
    await counted('another_name', T0, ['template.sent']);
    expect((await templates.overview())[0]).toMatchObject({
      name: 'order_paid',
      templateId: OLD_ID,
      counts: { sent: 3, receipt_success: 1, receipt_user_block: 1, fallback_sent: 2 },
    });
    expect(Object.keys((await templates.overview())[0].counts).sort()).toEqual(['fallback_sent', 'receipt_success', 'receipt_user_block', 'sent']);
  });
});
