import { JsonHttp } from '../../src/wechat/http-json';
import { TokenSource } from '../../src/wechat/token-source';
import { calls } from '../helpers/emulator-calls';
import { APP, TEMPLATES, USER, connectTestRedis, sleep, startHarness } from '../helpers/harness';
import { paid } from '../helpers/paid-notice';
import { runServer, serverEnv, stopServer } from '../helpers/process';
import { mkdtempSync, writeFileSync } from 'node:fs';

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
      const source = new TokenSource({ http, appId: APP.appId, appSecret: APP.appSecret, mode: 'stable', storage: store.forAccount(APP.appId), now: () => clock });
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
      await h.service.account().delivery.templates.sync();
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
      const sources = stores.map((storage, i) => new TokenSource({ http: https[i], appId: APP.appId, appSecret: APP.appSecret, mode: 'stable', storage: storage.forAccount(APP.appId) }));
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
