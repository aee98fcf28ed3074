import { API_KEY, USER, startHarness, type Harness } from '../helpers/harness';

const SECOND_KEY = 'second-client-key-0123456789';

describe('the business API', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: (c) => ({ ...c, apiKeys: [...c.apiKeys, SECOND_KEY] }) });
  });
  afterAll(async () => {
    await h.close();
  });
  const body = { openid: USER, template: 'order_paid', data: { order_no: 'A1', amount: { value: '2.00', color: '#173177' } } };

  it('requires a known bearer key', async () => {
    const none = await fetch(`${h.service.url}/v1/notifications`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ error: { code: 'unauthorized', message: expect.stringContaining('Bearer') } });
    const wrong = await h.enqueue(body, { authorization: 'Bearer not-the-key-at-all' });
    expect(wrong.status).toBe(401);
  });

  it('answers 400 naming each bad field, and stores nothing', async () => {
    const res = await h.enqueue({ openid: 'x', template: '', data: { 'bad name': 'v', ok: { value: 1 } }, url: 'javascript:alert(1)', extra: true });
    expect(res.status).toBe(400);
    const fields = (res.body.error as { details: Array<{ field: string }> }).details.map((d) => d.field).sort();
    expect(fields).toEqual(expect.arrayContaining(['openid', 'template', 'url', 'data.ok', 'data.bad name']));
    expect(JSON.stringify(res.body)).toMatch(/extra/);
    expect((await h.store.scheduleInfo()).size).toBe(0);
  });

  it('refuses an unknown template by name', async () => {
    const res = await h.enqueue({ ...body, template: 'no_such_template' });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'unknown_template', details: [{ field: 'template' }] });
  });

  it('accepts a raw template id known from the account', async () => {
    const res = await h.enqueue({ ...body, template: 'TPL_ORDER_PAID_000000001' });
    expect(res.status).toBe(202);
    await h.waitFor(res.body.id as string, 'delivered');
  });

  it('rejects malformed JSON and other media types', async () => {
    const res = await h.enqueue('{"openid":');
    expect(res).toEqual({ status: 400, body: { error: { code: 'invalid_json', message: 'the body is not valid JSON' } } });
    const text = await fetch(`${h.service.url}/v1/notifications`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'text/plain' }, body: 'hi' });
    expect(text.status).toBe(415);
  });

  it('replays the first answer for the same Idempotency-Key and body, 409 for another body', async () => {
    const first = await h.enqueue(body, { 'idempotency-key': 'order-A1-paid' });
    const again = await h.enqueue(body, { 'idempotency-key': 'order-A1-paid' });
    expect(first.status).toBe(202);
    expect(again).toEqual(first);
    const other = await h.enqueue({ ...body, data: { order_no: 'A2', amount: '3' } }, { 'idempotency-key': 'order-A1-paid' });
    expect(other.status).toBe(409);
    expect(other.body.error).toMatchObject({ code: 'idempotency_conflict', details: { id: first.body.id } });
    await h.waitFor(first.body.id as string, 'delivered');
    expect(h.emulator.control.inbox(USER).filter((e) => e.client_msg_id === first.body.id)).toHaveLength(1);
    // another client (API key) has its own key space
    const otherClient = await h.enqueue(body, { 'idempotency-key': 'order-A1-paid', authorization: `Bearer ${SECOND_KEY}` });
    expect(otherClient.status).toBe(202);
    expect(otherClient.body.id).not.toBe(first.body.id);
  });

  it('returns 404 for an unknown notification and route', async () => {
    expect((await fetch(`${h.service.url}/v1/notifications/n000000000000000000000000`, { headers: { authorization: `Bearer ${API_KEY}` } })).status).toBe(404);
    expect((await fetch(`${h.service.url}/nope`)).status).toBe(404);
  });

  it('reports health, readiness and templates', async () => {
    expect(await (await fetch(`${h.service.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${h.service.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', store: 'ok' });
    const t = (await (await fetch(`${h.service.url}/v1/templates`, { headers: { authorization: `Bearer ${API_KEY}` } })).json()) as { templates: Array<Record<string, unknown>> };
    expect(t.templates.map((x) => x.name)).toEqual(['order_paid', 'seat_ready']);
    expect(t.templates[0]).toMatchObject({ templateId: 'TPL_ORDER_PAID_000000001', valid: true, counts: expect.objectContaining({ sent: expect.any(Number) }) });
  });
});

describe('metrics', () => {
  it('exposes Prometheus counts of statuses, pushes and WeChat calls, without secrets', async () => {
    const h = await startHarness();
    try {
      const { body } = await h.enqueue({ openid: USER, template: 'order_paid', data: { order_no: 'M1', amount: '1' } });
      await h.waitFor(body.id as string, 'delivered');
      const res = await fetch(`${h.service.url}/metrics`);
      expect(res.headers.get('content-type')).toMatch(/text\/plain/);
      const text = await res.text();
      expect(text).toMatch(/wxreach_status_changes_total\{status="queued"\} 1/);
      expect(text).toMatch(/wxreach_status_changes_total\{status="delivered"\} 1/);
      expect(text).toMatch(/wxreach_pushes_total\{kind="receipt",duplicate="false"\} 1/);
      expect(text).toMatch(/wxreach_wechat_call_seconds_count\{path="\/cgi-bin\/message\/template\/send",outcome="ok",errcode=""\} 1/);
      expect(text).toMatch(/wxreach_scheduled_notifications 0/);
      expect(text).toMatch(/wxreach_schedule_lag_seconds 0/);
      expect(text).not.toContain('access_token=');
    } finally {
      await h.close();
    }
  });
});
