import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { EmulatorHandle } from '../../src/emulator';
import { RedisStore } from '../../src/store/redis-store';
import { APP, API_KEY, TEMPLATES, USER, startAppEmulator } from '../helpers/harness';
import { runEmulatorCli, runServer, serverEnv, stopServer, type Running } from '../helpers/process';

describe('the built server as its own process', () => {
  let emulator: EmulatorHandle;
  // Redis keys of this run's own: the emulator's message ids repeat from run to run, so on a Redis
  // kept between runs a user's message could be taken for one already handled (its window not renewed)
  const prefix = `e2e${randomBytes(4).toString('hex')}`;
  const configFile = path.join(os.tmpdir(), `wxreach-e2e-${prefix}.json`);
  const env = () => serverEnv(emulator.url, { WXREACH_CONFIG: configFile });
  beforeAll(async () => {
    writeFileSync(configFile, JSON.stringify({ redisPrefix: prefix }));
    emulator = await startAppEmulator();
  });
  afterAll(async () => {
    await emulator.close();
    rmSync(configFile, { force: true });
  });

  it('runs against Redis and the emulator, falls back, and never logs a secret', async () => {
    const server = runServer(env());
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
  it('production refuses to run a fake WeChat: no demo mode, no emulator CLI (exit 2)', async () => {
    const production = { NODE_ENV: 'production', PORT: '0', EMULATOR_PORT: '0' };
    const server = runServer({ ...production, REDIS_URL: process.env.TEST_REDIS_URL as string, WXREACH_API_KEYS: API_KEY });
    const cli = runEmulatorCli(production);
    // one that starts anyway gives itself away here, and is stopped
    const within = (r: Running) => Promise.race([r.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 5000))]);
    try {
      expect(await within(server)).toBe(2);
      expect(server.output()).toMatch(/wechat\.appId \(WECHAT_APPID\), accounts or component \(WECHAT_COMPONENT_APPID\): one is required when NODE_ENV=production/);
      expect(await within(cli)).toBe(2);
      expect(cli.output()).toMatch(/refusing to start with NODE_ENV=production/);
    } finally {
      server.child.kill('SIGKILL');
      cli.child.kill('SIGKILL');
    }
    expect(server.output()).not.toMatch(/listening/);
    expect(cli.output()).not.toMatch(/listening/);
  });

  describe('slow and oversized requests', () => {
    let server: Running;
    let url: URL;
    beforeAll(async () => {
      server = runServer(env());
      url = new URL((await server.waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/))[1]);
    });
    afterAll(async () => {
      expect(await stopServer(server)).toBe(0);
    });

    /** A raw connection: what the server sent, how many bytes we wrote, and when the server closed it. */
    function rawConnection() {
      const socket = connect(Number(url.port), url.hostname);
      socket.on('error', () => {}); // EPIPE / ECONNRESET once the server has closed
      let received = '';
      socket.on('data', (d) => (received += d.toString()));
      const opened = Date.now();
      // Infinity: still open after 15 s
      const closedAfterMs = new Promise<number>((resolve) => {
        const timer = setTimeout(() => resolve(Infinity), 15_000);
        socket.once('close', () => {
          clearTimeout(timer);
          resolve(Date.now() - opened);
        });
      });
      return { socket, received: () => received, closedAfterMs };
    }

    /** Writes `text` one byte every `everyMs` until the server closes the connection (or the text runs out). */
    function trickle(socket: ReturnType<typeof rawConnection>['socket'], text: string, everyMs: number) {
      let i = 0;
      const timer = setInterval(() => (i < text.length && !socket.destroyed ? socket.write(text[i++]) : clearInterval(timer)), everyMs);
      socket.once('close', () => clearInterval(timer));
    }

    const body = JSON.stringify({ openid: USER, template: TEMPLATES.order_paid.id, data: { order_no: 'SLOW-1', amount: '1' } }).padEnd(600);
    const head = (auth: boolean, length: number | string) =>
      [
        'POST /v1/notifications HTTP/1.1',
        `Host: ${url.host}`,
        'Content-Type: application/json',
        ...(auth ? [`Authorization: Bearer ${API_KEY}`] : []),
        `Content-Length: ${length}`,
        '',
        '',
      ].join('\r\n');

    it('a trickle of headers or body is cut within seconds; after a 401 the connection is closed at once', async () => {
      const slowHeaders = rawConnection();
      slowHeaders.socket.write('POST /v1/notifications HTTP/1.1\r\n');
      trickle(slowHeaders.socket, `Host: ${url.host}\r\n`.repeat(100), 200);
      const slowBody = rawConnection();
      slowBody.socket.write(head(true, body.length));
      trickle(slowBody.socket, body, 200);
      const unauthenticated = rawConnection();
      unauthenticated.socket.write(head(false, body.length));
      trickle(unauthenticated.socket, body, 200);

      expect(await unauthenticated.closedAfterMs).toBeLessThan(2000);
      expect(unauthenticated.received()).toMatch(/^HTTP\/1\.1 401 [^]*\r\nConnection: close\r\n/i);
      expect(await slowHeaders.closedAfterMs).toBeLessThan(8000); // headers within 5 s
      expect(await slowBody.closedAfterMs).toBeLessThan(13_000); // the whole request within 10 s
      expect(slowBody.received()).not.toMatch(/ 202 /);
    }, 30_000);

    it('a body over 64 KB is refused with 413 before it is read, and the connection is closed', async () => {
      const total = 100 * 1024 * 1024;
      const upload = rawConnection();
      let closed = false;
      void upload.closedAfterMs.then(() => (closed = true));
      upload.socket.write(head(true, total));
      const chunk = Buffer.alloc(64 * 1024, 'a');
      let written = 0;
      // Like curl, stop sending once the server has answered: a client that keeps pushing bytes at
      // a closing connection gets it reset, and a reset can drop the answer it has not read yet.
      while (!closed && upload.received() === '' && written < total) {
        written += chunk.length;
        if (!upload.socket.write(chunk)) {
          await new Promise<void>((resolve) => {
            const go = () => {
              upload.socket.off('drain', go).off('close', go);
              resolve();
            };
            upload.socket.on('drain', go).on('close', go);
          });
        }
      }
      expect(await upload.closedAfterMs).toBeLessThan(5000);
      expect(upload.received()).toMatch(/^HTTP\/1\.1 413 [^]*\r\nConnection: close\r\n[^]*"body_too_large"/i);
      expect(written).toBeLessThan(total / 4); // the rest was never read
    }, 30_000);
  });

  it('SIGTERM: stops accepting, answers every request in flight, lets the notices in hand finish, exits 0', async () => {
    // a template of its own (an earlier test deletes order_paid), known to the server from its start-up sync
    const template = emulator.control.addTemplate({ title: 'Shutdown', content: 'Order: {{order_no.DATA}}' });
    const server = runServer(env());
    const [, base] = await server.waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/);
    const { hostname, port } = new URL(base);
    const auth = { authorization: `Bearer ${API_KEY}` };
    const enqueue = async (orderNo: string) => {
      const res = await fetch(`${base}/v1/notifications`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ openid: USER, template, data: { order_no: orderNo } }),
      });
      expect(res.status).toBe(202);
      return ((await res.json()) as { id: string }).id;
    };
    // notices in hand: their template send takes 1.5 s at WeChat
    emulator.control.setFaults({ latencyMs: 1500, paths: ['/cgi-bin/message/template/send'] });
    const sendsBefore = emulator.control.stats().calls['/cgi-bin/message/template/send'] ?? 0;
    try {
      const inHand = await Promise.all(['TERM-1', 'TERM-2', 'TERM-3'].map(enqueue));
      // requests in flight: headers and half a body sent, the rest only after SIGTERM
      const inFlight = [1, 2, 3, 4, 5].map((i) => {
        const json = JSON.stringify({ openid: USER, template, data: { order_no: `FLIGHT-${i}` } });
        const req = request({ host: hostname, port, method: 'POST', path: '/v1/notifications', headers: { ...auth, 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) } });
        // what the client got: a status and its Connection header, or the error (ECONNRESET…)
        const answer = new Promise<string>((resolve) => {
          req.once('response', (res: IncomingMessage) => resolve(`${res.statusCode} connection: ${res.headers.connection}`));
          req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
        });
        req.write(json.slice(0, 20));
        return { req, rest: json.slice(20), answer };
      });
      await new Promise((r) => setTimeout(r, 300));
      // under way (one after the other: the three are for the same user)
      expect((emulator.control.stats().calls['/cgi-bin/message/template/send'] ?? 0) - sendsBefore).toBeGreaterThanOrEqual(1);

      server.child.kill('SIGTERM');
      await server.waitFor(/"message":"stopping"/);
      await expect(fetch(`${base}/healthz`)).rejects.toThrow(); // no longer accepting
      await new Promise((r) => setTimeout(r, 300));
      for (const { req, rest } of inFlight) req.end(rest);

      expect(await Promise.all(inFlight.map((f) => f.answer))).toEqual(Array(5).fill('202 connection: close'));
      expect(await server.exited).toBe(0);

      // the notices in hand got their answer from WeChat and recorded it before the exit
      const store = await RedisStore.connect({ url: process.env.TEST_REDIS_URL as string, prefix });
      try {
        const statuses = await Promise.all(inHand.map(async (id) => (await store.forAccount(store.accountOfId(id) as string).get(id))?.fields.status));
        for (const status of statuses) expect(['awaiting_receipt', 'delivered']).toContain(status);
      } finally {
        await store.close();
      }
    } finally {
      emulator.control.setFaults({});
      server.child.kill('SIGKILL');
    }
  }, 30_000);
});
