import { startEmulator, type EmulatorHandle } from '../../src/emulator';
import { APP, API_KEY, TEMPLATES, USER } from '../helpers/harness';
import { runServer, serverEnv, stopServer } from '../helpers/process';

describe('the built server as its own process', () => {
  let emulator: EmulatorHandle;
  beforeAll(async () => {
    emulator = await startEmulator({
      ...APP,
      receiptDelayMs: 20,
      seed: { users: [{ openid: USER }], templates: Object.values(TEMPLATES).map((t) => ({ template_id: t.id, title: t.title, content: t.content })) },
    });
  });
  afterAll(async () => {
    await emulator.close();
  });

  it('runs against Redis and the emulator, falls back, and never logs a secret', async () => {
    const server = runServer(serverEnv(emulator.url));
    try {
      const [, url] = await server.waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/);
      emulator.control.setCallbackUrl(`${url}/wechat`);
      await emulator.control.userSendsText(USER, 'hello');
      emulator.control.deleteTemplate(TEMPLATES.order_paid.id);
      const res = await fetch(`${url}/v1/notifications`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
        body: JSON.stringify({ openid: USER, template: TEMPLATES.order_paid.id, data: { order_no: 'E2E-1', amount: '9.90' } }),
      });
      expect(res.status).toBe(202);
      const { id } = (await res.json()) as { id: string };
      let n: Record<string, unknown> = {};
      for (let i = 0; i < 100 && n.status !== 'fallback_sent'; i++) {
        await new Promise((r) => setTimeout(r, 50));
        n = (await (await fetch(`${url}/v1/notifications/${id}`, { headers: { authorization: `Bearer ${API_KEY}` } })).json()) as Record<string, unknown>;
      }
      expect(n.status).toBe('fallback_sent');
      expect(emulator.control.inbox(USER).at(-1)).toMatchObject({ channel: 'customer_service', text: 'Order paid\nOrder: E2E-1\nAmount: 9.90' });
    } finally {
      expect(await stopServer(server)).toBe(0);
    }
    for (const secret of [APP.appSecret, API_KEY]) expect(server.output()).not.toContain(secret);
  });

  it('refuses a bad configuration with a message naming the key', async () => {
    const server = runServer({ PORT: 'eighty' });
    expect(await server.exited).toBe(2);
    expect(server.output()).toMatch(/port \(PORT\)/);
  });

  it('demo mode: starts its own emulator and the printed curl shows a fallback', async () => {
    const server = runServer({ PORT: '0', HOST: '127.0.0.1', EMULATOR_PORT: '0' });
    try {
      const [, curlUrl, body] = await server.waitFor(/curl -s -X POST (\S+) -H 'content-type: application\/json' -d '([^']+)'/);
      const [, inboxUrl] = await server.waitFor(/curl -s (\S+\/inbox)/);
      const res = await fetch(curlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(res.status).toBe(202);
      let inbox: Array<{ channel: string; text: string }> = [];
      for (let i = 0; i < 100 && inbox.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
        inbox = (await (await fetch(inboxUrl)).json()) as typeof inbox;
      }
      expect(inbox).toEqual([expect.objectContaining({ channel: 'customer_service', text: expect.stringContaining('A1001') })]);
    } finally {
      expect(await stopServer(server)).toBe(0);
    }
  });
});
