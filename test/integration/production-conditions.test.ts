import { capturedLogger } from '../helpers/logs';
import { startService } from '../../src/service';
import { JsonHttp } from '../../src/wechat/http-json';
import { TokenSource } from '../../src/wechat/token-source';
import { APP, API_KEY, TEMPLATES, USER, connectTestRedis, sleep, startHarness, type Harness } from '../helpers/harness';
import { postPush, receiptXml } from '../helpers/push';
import { runServer, serverEnv, stopServer } from '../helpers/process';
import { mkdtempSync, writeFileSync } from 'node:fs';

const paid = (n: number, openid = USER) => ({ openid, template: 'order_paid', data: { order_no: `A${n}`, amount: '1.00' } });
const TEMPLATE_SEND = '/cgi-bin/message/template/send';
const calls = (h: Harness, path: string) => h.emulator.control.stats().calls[path] ?? 0;

describe('token lifecycle', () => {
  it('many concurrent 40001s cause exactly one token call, and every notice is delivered', async () => {
    const h = await startHarness();
    try {
      await h.waitFor((await h.enqueue(paid(0))).body.id as string, 'delivered');
      const before = calls(h, '/cgi-bin/stable_token');
      h.emulator.control.rotateToken(); // another server force-refreshed: our token now answers 40001
      const ids = await Promise.all(Array.from({ length: 30 }, (_, i) => h.enqueue(paid(i + 1)).then((r) => r.body.id as string)));
      for (const id of ids) await h.waitFor(id, 'delivered');
      expect(calls(h, '/cgi-bin/stable_token') - before).toBe(1);
      expect(h.emulator.control.inbox(USER).filter((e) => e.channel === 'template')).toHaveLength(31);
    } finally {
      await h.close();
    }
  });

  it('a token that expired at WeChat (42001) is refetched once and the notice still goes', async () => {
    const h = await startHarness();
    try {
      await h.waitFor((await h.enqueue(paid(0))).body.id as string, 'delivered');
      const before = calls(h, '/cgi-bin/stable_token');
      h.emulator.control.advanceClock(7300); // WeChat's clock passes the token's 7200 s
      await h.waitFor((await h.enqueue(paid(1))).body.id as string, 'delivered');
      expect(calls(h, '/cgi-bin/stable_token') - before).toBe(1);
    } finally {
      await h.close();
    }
  });

  it('an early refresh that fails keeps serving the token that is still valid', async () => {
    const h = await startHarness();
    const store = await connectTestRedis(`early${Date.now()}`);
    const http = new JsonHttp(h.emulator.url, 500, 4);
    let clock = Date.now();
    try {
      const source = new TokenSource({ http, appId: APP.appId, appSecret: APP.appSecret, mode: 'stable', storage: store, now: () => clock });
      const first = await source.get();
      clock += 7000 * 1000; // inside the last 5 minutes of its 7200 s
      h.emulator.control.setFaults({ paths: ['/cgi-bin/stable_token'], dropRate: 1 });
      await expect(source.get()).resolves.toBe(first);
      clock += 300 * 1000; // now really expired: nothing left to serve
      await expect(source.get()).rejects.toThrow(/stable_token/);
    } finally {
      await http.close();
      await store.close();
      await h.close();
    }
  });

  it('a token fetch that fails under a customer-service send waits, it never ends the notice', async () => {
    const h = await startHarness();
    try {
      await h.emulator.control.userSendsText(USER, 'hi');
      h.emulator.control.deleteTemplate(TEMPLATES.order_paid.id);
      await h.service.templates.sync();
      h.emulator.control.rotateToken();
      h.emulator.control.setFaults({ paths: ['/cgi-bin/stable_token'], dropRate: 1 });
      const { body } = await h.enqueue(paid(1));
      for (let i = 0; i < 50 && !JSON.stringify((await h.get(body.id as string)).history).includes('waiting for a usable access token'); i++) await sleep(20);
      expect((await h.get(body.id as string)).status).toBe('fallback_pending');
      h.emulator.control.setFaults({});
      const n = await h.waitFor(body.id as string, 'fallback_sent', 6000);
      expect(n.channel).toBe('customer_service');
    } finally {
      await h.close();
    }
  });

  it('ten token sources on one Redis starting together make one token call', async () => {
    const h = await startHarness();
    const prefix = `tokens${Date.now()}`;
    const stores = await Promise.all(Array.from({ length: 10 }, () => connectTestRedis(prefix)));
    const https = stores.map(() => new JsonHttp(h.emulator.url, 2000, 4));
    try {
      const before = calls(h, '/cgi-bin/stable_token');
      const sources = stores.map((storage, i) => new TokenSource({ http: https[i], appId: APP.appId, appSecret: APP.appSecret, mode: 'stable', storage }));
      const tokens = await Promise.all(sources.flatMap((s) => [s.get(), s.get(), s.get()]));
      expect(new Set(tokens).size).toBe(1);
      expect(calls(h, '/cgi-bin/stable_token') - before).toBe(1);
    } finally {
      await Promise.all(https.map((x) => x.close()));
      await Promise.all(stores.map((s) => s.close()));
      await h.close();
    }
  });

  it('two wxreach processes sharing one Redis make one token call', async () => {
    const h = await startHarness();
    const prefix = `two${Date.now()}`;
    const dir = mkdtempSync('/tmp/wxreach-two-');
    writeFileSync(`${dir}/c.json`, JSON.stringify({ redisPrefix: prefix }));
    const env = serverEnv(h.emulator.url, { WXREACH_CONFIG: `${dir}/c.json` });
    const before = calls(h, '/cgi-bin/stable_token');
    const servers = [runServer(env), runServer(env)];
    try {
      await Promise.all(servers.map((s) => s.waitFor(/wxreach listening/)));
      expect(calls(h, '/cgi-bin/stable_token') - before).toBe(1);
    } finally {
      for (const s of servers) await stopServer(s);
      await h.close();
    }
  });

  it('an IP that is not whitelisted (40164) is named in /readyz and notices wait', async () => {
    const h = await startHarness();
    try {
      h.emulator.control.setFaults({ paths: ['/cgi-bin/stable_token'], errcodeRate: 1, errcode: 40164 });
      h.emulator.control.rotateToken();
      const { body } = await h.enqueue(paid(1));
      await sleep(150);
      const ready = await fetch(`${h.service.url}/readyz`);
      expect(ready.status).toBe(503);
      const detail = (await ready.json()) as { wechat: { errcode: number; problem: string } };
      expect(detail.wechat.errcode).toBe(40164);
      expect(detail.wechat.problem).toMatch(/IP whitelist/);
      expect(h.logs()).not.toContain(APP.appSecret);
      h.emulator.control.setFaults({});
      await h.waitFor(body.id as string, ['delivered', 'fallback_sent']);
      expect((await fetch(`${h.service.url}/readyz`)).status).toBe(200);
    } finally {
      await h.close();
    }
  });
});

describe('transient errors', () => {
  it.each([
    ['errcode -1', { errcodeRate: 1 }],
    ['errcode 45011', { errcodeRate: 1, errcode: 45011 }],
    ['HTTP 502', { http5xxRate: 1 }],
    ['dropped connections', { dropRate: 1 }],
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
      const templates = await h.service.templates.overview();
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

describe('receipt timeouts', () => {
  it('no receipt → fallback after receipt.timeoutSeconds; a late receipt changes nothing', async () => {
    const h = await startHarness({ config: (c) => ({ ...c, receipt: { timeoutSeconds: 1, onTimeout: 'fallback' } }) });
    try {
      await h.emulator.control.userSendsText(USER, 'hi');
      h.emulator.control.setReceiptOutcome({ openid: USER, outcome: 'none' });
      const { body } = await h.enqueue(paid(1));
      const n = await h.waitFor(body.id as string, 'fallback_sent', 4000);
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
          const n = (await again.notifications.get(id)) ?? { status: 'missing' };
          expect(['awaiting_receipt', 'fallback_pending', 'fallback_sent']).toContain(n.status);
        }
        for (let i = 0; i < 200 && (await Promise.all(ids.map((id) => again.notifications.get(id)))).some((n) => n?.status !== 'fallback_sent'); i++) await sleep(20);
        for (const id of ids) {
          const n = await again.notifications.get(id);
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

describe('template health', () => {
  it('sync marks a deleted template invalid (keeping its content) and valid again when it reappears', async () => {
    const h = await startHarness();
    try {
      await h.emulator.control.userSendsText(USER, 'hi');
      h.emulator.control.deleteTemplate(TEMPLATES.seat_ready.id);
      await h.service.templates.sync();
      const list = async () =>
        ((await (await fetch(`${h.service.url}/v1/templates`, { headers: { authorization: `Bearer ${API_KEY}` } })).json()) as { templates: Array<Record<string, unknown>> }).templates;
      expect((await list()).find((t) => t.name === 'seat_ready')).toMatchObject({ valid: false, reason: 'missing from the template list', since: expect.any(String) });
      const { body } = await h.enqueue({ openid: USER, template: 'seat_ready', data: { movie: '流浪地球', seat: '7排8座' } });
      const n = await h.waitFor(body.id as string, 'fallback_sent');
      expect(n.text).toBe('取票提醒\n影片：流浪地球\n座位：7排8座'); // built from the last known content
      expect(calls(h, TEMPLATE_SEND)).toBe(0);
      h.emulator.control.addTemplate({ template_id: TEMPLATES.seat_ready.id, title: TEMPLATES.seat_ready.title, content: TEMPLATES.seat_ready.content });
      await h.service.templates.sync();
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
      await h.service.templates.sync();
      await h.service.templates.sync();
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
