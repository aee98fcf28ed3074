import { createClient } from 'redis';
import { loadConfig } from '../../src/config/load';
import { startEmulator, type EmulatorHandle } from '../../src/emulator';
import { startService, type Service } from '../../src/service';
import { RedisStore } from '../../src/store/redis-store';
import { API_KEY, APP, TEMPLATES, USER } from '../helpers/harness';
import { capturedLogger } from '../helpers/logs';
import { postPush, receiptXml } from '../helpers/push';
import os from 'node:os';
import path from 'node:path';
import { RedisServer } from '../../src/dev/redis-server';

/** What a client sees of one request: status, error code, and how long it took. */
interface Answer {
  status: number;
  code?: string;
  ms: number;
}

/** A wxreach service on a private redis-server that the tests stop (kill or freeze) and bring back. */
describe('while Redis is down or hung', () => {
  let redis: RedisServer;
  let store: RedisStore;
  let emulator: EmulatorHandle;
  let service: Service;
  let id: string;
  let logs: () => string;

  beforeAll(async () => {
    redis = await RedisServer.launch();
    store = await RedisStore.connect({ url: redis.url, prefix: 'outage' });
    emulator = await startEmulator({
      ...APP,
      seed: { users: [{ openid: USER }], templates: [{ template_id: TEMPLATES.order_paid.id, title: TEMPLATES.order_paid.title, content: TEMPLATES.order_paid.content }] },
    });
    const base = loadConfig({});
    const config = {
      ...base,
      port: 0,
      apiKeys: [API_KEY],
      wechat: { ...base.wechat, ...APP, apiBase: emulator.url },
      templates: { order_paid: { id: TEMPLATES.order_paid.id } },
      pushJournal: { file: path.join(os.tmpdir(), `wxreach-outage-journal-${process.pid}-${Date.now()}.jsonl`) },
    };
    const captured = capturedLogger('error');
    logs = captured.text;
    service = await startService({ config, store, log: captured.log });
    emulator.control.setCallbackUrl(`${service.url}/wechat`);
    const accepted = await enqueue();
    expect(accepted.status).toBe(202);
    id = accepted.id as string;
  });
  afterAll(async () => {
    redis.resume();
    await service.stop();
    await emulator.close();
    await store.close();
    await redis.stop();
  });

  const auth = { authorization: `Bearer ${API_KEY}` };
  // A request that hangs fails the test here instead of at jest's timeout.
  const patience = () => AbortSignal.timeout(8000);

  async function enqueue(): Promise<{ status: number; id?: string; code?: string }> {
    const res = await fetch(`${service.url}/v1/notifications`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ openid: USER, template: 'order_paid', data: { order_no: 'R1', amount: '1' } }),
      signal: patience(),
    });
    const body = (await res.json()) as { id?: string; error?: { code: string } };
    return { status: res.status, id: body.id, code: body.error?.code };
  }

  async function timed(request: () => Promise<{ status: number; code?: string }>): Promise<Answer> {
    const started = Date.now();
    const { status, code } = await request();
    return { status, code, ms: Date.now() - started };
  }

  const withCode = async (res: Response) => {
    const isJson = res.headers.get('content-type')?.startsWith('application/json');
    return { status: res.status, code: isJson ? ((await res.json()) as { error?: { code: string } }).error?.code : undefined };
  };

  /** Every request that needs the store, each timed. */
  const everyRequest = () =>
    Promise.all([
      timed(enqueue),
      timed(async () => withCode(await fetch(`${service.url}/v1/notifications/${id}`, { headers: auth, signal: patience() }))),
      timed(async () => withCode(await fetch(`${service.url}/metrics`, { signal: patience() }))),
      timed(async () => {
        const push = { ToUserName: 'gh_test', FromUserName: USER, CreateTime: Math.floor(Date.now() / 1000), MsgType: 'text', Content: 'hi', MsgId: Date.now() };
        return postPush(service.url, push, { token: APP.token });
      }),
    ]);

  async function readyz(): Promise<Answer & { detail: Record<string, unknown> }> {
    const started = Date.now();
    const res = await fetch(`${service.url}/readyz`, { signal: patience() });
    return { status: res.status, detail: (await res.json()) as Record<string, unknown>, ms: Date.now() - started };
  }

  /** A PING of our own, on a fresh connection: proves the outage is real. */
  async function directPing(): Promise<string> {
    const client = createClient({ url: redis.url, socket: { reconnectStrategy: false } });
    client.on('error', () => {});
    const ping = client.connect().then(
      (c) => c.ping(),
      (err: Error) => err.message,
    );
    const silence = new Promise<string>((resolve) => setTimeout(() => resolve('no answer'), 1000));
    try {
      return await Promise.race([ping, silence]);
    } finally {
      client.destroy();
    }
  }

  function expectUnavailable(answers: Answer[]) {
    // /wechat keeps the push in the local journal and answers WeChat `success` (applied when Redis is back)
    expect(answers.map((a) => a.status)).toEqual([503, 503, 503, 200]);
    expect(answers.slice(0, 3).map((a) => a.code)).toEqual(['store_unavailable', 'store_unavailable', 'store_unavailable']);
    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(2500);
  }

  async function expectRecovered() {
    // the client reconnects within its backoff (at most 2 s)
    const deadline = Date.now() + 8000;
    while ((await readyz()).status !== 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    // the restarted server keeps no data: read a notice accepted after it came back
    const accepted = await enqueue();
    expect(accepted.status).toBe(202);
    id = accepted.id as string;
    const answers = await everyRequest();
    expect(answers.map((a) => a.status)).toEqual([202, 200, 200, 200]);
  }

  it('Redis stopped: 503 store_unavailable at once, /readyz says why within 1 s, and all is well once it is back', async () => {
    const claimFailures = () => logs().split('cannot claim due work').length - 1;
    const before = claimFailures();
    const started = Date.now();
    await redis.kill();
    expect(await directPing()).toMatch(/ECONNREFUSED/);
    expectUnavailable(await everyRequest());
    const ready = await readyz();
    expect(ready.status).toBe(503);
    expect(ready.detail.store).toMatch(/unreachable: Redis is not connected/);
    expect(ready.ms).toBeLessThan(1000);
    // the work loop's claims fail at once too, and it waits between them instead of spinning
    const seconds = (Date.now() - started) / 1000;
    expect(claimFailures() - before).toBeGreaterThan(0);
    expect(claimFailures() - before).toBeLessThanOrEqual(Math.ceil(seconds) + 2);

    await redis.restart();
    await expectRecovered();
  });

  it('Redis hung (answers nothing): 503 store_unavailable within 2 s, /readyz within 1 s', async () => {
    redis.pause();
    try {
      expect(await directPing()).toBe('no answer');
      expectUnavailable(await everyRequest());
      const ready = await readyz();
      expect(ready.status).toBe(503);
      expect(ready.detail.store).toMatch(/unreachable: Redis did not answer/);
      expect(ready.ms).toBeLessThan(1000);
    } finally {
      redis.resume();
    }
    await expectRecovered();
  });

  it('a receipt pushed while Redis is hung is kept in the journal and applied when it is back: the notice is delivered, no fallback', async () => {
    emulator.control.setReceiptOutcome({ openid: USER, outcome: 'none' }); // the receipt comes from this test
    const accepted = await enqueue();
    const nid = accepted.id as string;
    let msgid: string | undefined;
    for (let i = 0; i < 100 && !msgid; i++) {
      const n = (await (await fetch(`${service.url}/v1/notifications/${nid}`, { headers: auth })).json()) as { status: string; msgid?: string };
      if (n.status === 'awaiting_receipt') msgid = n.msgid;
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(msgid).toBeDefined();

    redis.pause();
    try {
      expect(await directPing()).toBe('no answer');
      const answer = await postPush(service.url, receiptXml(USER, msgid as string, 'success'), { token: APP.token });
      expect(answer).toEqual({ status: 200, text: 'success' });
      expect(logs()).not.toContain('"message":"request failed"');
    } finally {
      redis.resume();
    }
    let status = '';
    for (let i = 0; i < 100 && status !== 'delivered'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const res = await fetch(`${service.url}/v1/notifications/${nid}`, { headers: auth });
      if (res.status === 200) status = ((await res.json()) as { status: string }).status;
    }
    expect(status).toBe('delivered');
    expect(emulator.control.inbox(USER).filter((m) => m.channel !== 'template')).toEqual([]);
  });
});
