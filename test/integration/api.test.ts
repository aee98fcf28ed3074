import { toFields } from '../../src/delivery/notification';
import { API_KEY, TEMPLATES, USER, sleep, startHarness, type Harness } from '../helpers/harness';

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
    // a bad field name says what a name must be
    expect((res.body.error as { details: Array<{ field: string; message: string }> }).details).toContainEqual({ field: 'data.bad name', message: 'field names: letters, digits and _' });
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

  const read = async (id: string, key: string) => {
    const res = await fetch(`${h.service.url}/v1/notifications/${id}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const fieldsOf = (res: { body: Record<string, unknown> }) => (res.body.error as { details: Array<{ field: string }> }).details.map((d) => d.field);

  it('shows a notification only to the API key that created it: another key gets the unknown-id 404', async () => {
    const mine = await h.enqueue(body);
    expect(mine.status).toBe(202);
    const id = mine.body.id as string;
    expect(await read(id, API_KEY)).toMatchObject({ status: 200, body: { id } });
    const unknown = 'n0123456789abcdef01234567';
    const notMine = await read(id, SECOND_KEY);
    expect(notMine).toEqual({ status: 404, body: { error: { code: 'not_found', message: `no notification ${id}` } } });
    expect(await read(unknown, SECOND_KEY)).toEqual({ status: 404, body: { error: { code: 'not_found', message: `no notification ${unknown}` } } });
    const theirs = (await h.enqueue(body, { authorization: `Bearer ${SECOND_KEY}` })).body.id as string;
    expect((await read(theirs, API_KEY)).status).toBe(404);
    expect((await read(theirs, SECOND_KEY)).status).toBe(200);
    await h.waitFor(id, 'delivered');
    for (let i = 0; i < 300 && (await read(theirs, SECOND_KEY)).body.status !== 'delivered'; i++) await sleep(15);
    expect((await read(theirs, SECOND_KEY)).body.status).toBe('delivered');
  });

  it('shows a notification recorded before owners were kept to every key', async () => {
    const account = h.store.forAccount(h.config.wechat.appId as string);
    const id = account.newId(USER);
    const fields = toFields({ id, status: 'delivered', openid: USER, template: 'order_paid', data: { order_no: { value: 'OLD' } }, attempts: 1, csAttempts: 0, createdAt: Date.now() });
    expect(fields.client).toBeUndefined();
    await account.create(id, fields, { at: new Date().toISOString(), status: 'delivered', detail: 'accepted' }, { ttlSeconds: 60 });
    expect(await read(id, API_KEY)).toMatchObject({ status: 200, body: { id, status: 'delivered' } });
    expect(await read(id, SECOND_KEY)).toMatchObject({ status: 200, body: { id, status: 'delivered' } });
  });

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])('refuses template "%s" (never looked up on the prototype)', async (template) => {
    const before = (await h.store.scheduleInfo()).size;
    const res = await h.enqueue({ ...body, template });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'unknown_template', details: [{ field: 'template' }] });
    expect((await h.store.scheduleInfo()).size).toBe(before);
  });

  it.each(['__proto__', 'constructor', 'toString'])('refuses data field "%s", naming it, instead of dropping it', async (name) => {
    const before = (await h.store.scheduleInfo()).size;
    // JSON.parse (as express.json uses it) makes "__proto__" an own property; send it as raw JSON text
    const res = await h.enqueue(`{"openid":"${USER}","template":"order_paid","data":{"order_no":"A1","${name}":"x"}}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_request' });
    expect(fieldsOf(res)).toContain(`data.${name}`);
    expect((await h.store.scheduleInfo()).size).toBe(before);
  });

  it('refuses a lone UTF-16 surrogate in any string, naming each field', async () => {
    const before = (await h.store.scheduleInfo()).size;
    const lone = 'a\ud800b';
    const res = await h.enqueue(
      JSON.stringify({
        openid: USER,
        template: `order_paid${lone}`,
        data: { order_no: `A${lone}`, amount: { value: `\udc00${lone}` }, ok: 'paired 😀 is fine' },
        url: `https://shop.example/${lone}`,
        miniprogram: { appid: 'wx0123456789abcdef', pagepath: `pages/${lone}` },
        fallbackText: `text ${lone}`,
      }),
    );
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_request' });
    expect(fieldsOf(res).sort()).toEqual(['data.amount.value', 'data.order_no', 'fallbackText', 'miniprogram.pagepath', 'template', 'url']);
    // a lone surrogate in a data value alone is refused too
    const one = await h.enqueue({ ...body, data: { order_no: '\ud83d' } });
    expect(one.status).toBe(400);
    expect(one.body.error).toMatchObject({ details: [{ field: 'data.order_no', message: expect.stringContaining('lone UTF-16 surrogate') }] });
    expect((await h.store.scheduleInfo()).size).toBe(before);
  });

  it('strips control and text-direction characters from values in the customer-service text', async () => {
    const user = 'oSPOOF_user_00001';
    h.emulator.control.addUser({ openid: user, subscribed: true });
    await h.emulator.control.userSendsText(user, 'hi');
    h.emulator.control.refuseTemplate(user, TEMPLATES.order_paid.id);
    const hostile = 'A1\u0000\u0007\u001b[31m\u007f\u0085\u009b\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeffgpj.exe';
    const res = await h.enqueue({ openid: user, template: 'order_paid', data: { order_no: hostile, amount: '2.00' } });
    expect(res.status).toBe(202);
    await h.waitFor(res.body.id as string, 'fallback_sent');
    const texts = h.emulator.control.inbox(user).map((e) => e.text);
    expect(texts).toEqual(['Your order A1[31mgpj.exe is paid: 2.00.']);
    expect(texts[0]).not.toMatch(/[\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/u);
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
      expect(text).toMatch(/wxreach_status_changes_total\{status="queued",account="wx[0-9a-z]+"\} 1/);
      expect(text).toMatch(/wxreach_status_changes_total\{status="delivered",account="wx[0-9a-z]+"\} 1/);
      expect(text).toMatch(/wxreach_pushes_total\{kind="receipt",duplicate="false",account="wx[0-9a-z]+"\} 1/);
      expect(text).toMatch(/wxreach_wechat_call_seconds_count\{path="\/cgi-bin\/message\/template\/send",outcome="ok",errcode=""\} 1/);
      expect(text).toMatch(/wxreach_scheduled_notifications 0/);
      expect(text).toMatch(/wxreach_schedule_lag_seconds 0/);
      expect(text).not.toContain('access_token=');
    } finally {
      await h.close();
    }
  });
});
