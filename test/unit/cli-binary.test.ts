import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { DEMO_ACCOUNT } from '../../src/emulator/options';

/**
 * The built `wxreach` (package.json `bin`) as its own process: Node loads commander (ES modules)
 * from CommonJS, exit codes are the process's, Ctrl-C ends the long-running commands.
 */

const BIN = path.join(__dirname, '../../dist/src/cli/wxreach.js');

interface Process {
  stdout: () => string;
  stderr: () => string;
  /** The first match of `pattern` in stdout or stderr. */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  signal(name: NodeJS.Signals): void;
  exited: Promise<number | null>;
}

function wxreach(argv: string[], env: Record<string, string> = {}): Process {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build first (npm test does)`);
  const child = spawn(process.execPath, [BIN, ...argv], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    stdout: () => out,
    stderr: () => err,
    async waitFor(pattern) {
      for (let i = 0; i < 500; i++) {
        const m = (out + err).match(pattern);
        if (m) return m;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`no ${pattern} in:\n${out}${err}`);
    },
    signal: (name) => child.kill(name),
    exited,
  };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe('the wxreach binary', () => {
  it('prints its usage (exit 0), refuses an unknown command (exit 2) and says where it looked for wxreach (exit 1)', async () => {
    const help = wxreach(['--help']);
    expect(await help.exited).toBe(0);
    expect(help.stdout()).toMatch(/^Usage: wxreach \[options\] \[command\]/);
    for (const command of ['send', 'status', 'templates', 'accounts', 'webhooks', 'deliveries', 'emulator']) expect(help.stdout()).toContain(`  ${command}`);

    const unknown = wxreach(['bogus']);
    expect(await unknown.exited).toBe(2);
    expect(unknown.stderr()).toMatch(/unknown command 'bogus'/);

    const port = await closedPort();
    const unreachable = wxreach(['status', 'n1'], { WXREACH_URL: `http://127.0.0.1:${port}` });
    expect(await unreachable.exited).toBe(1);
    expect(unreachable.stderr()).toBe(`wxreach: cannot reach wxreach at http://127.0.0.1:${port}: ECONNREFUSED\n`);
  });

  it('webhooks listen: prints a signed event, and Ctrl-C ends it with 0', async () => {
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const listener = wxreach(['webhooks', 'listen', '--port', '0'], { WXREACH_WEBHOOK_SECRET: secret });
    try {
      const [, url] = await listener.waitFor(/listening on (\S+)/);
      const body = JSON.stringify({ type: 'account.unauthorized', timestamp: '2026-11-25T10:00:00.000Z', data: { appid: 'wxa1a1a1a1a1a1a1a1' } });
      const now = new Date();
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign('msg_1', now, body) },
        body,
      });
      expect(res.status).toBe(204);
      await listener.waitFor(/account\.unauthorized/);
      expect(listener.stdout()).toBe('2026-11-25T10:00:00.000Z  account.unauthorized  wxa1a1a1a1a1a1a1a1  [msg_1]\n');
    } finally {
      listener.signal('SIGINT');
    }
    expect(await listener.exited).toBe(0);
    expect(listener.stdout() + listener.stderr()).not.toContain(secret.slice(6));
  });

  it('emulator: starts the WeChat emulator as npm run emulator does, until Ctrl-C; not in production', async () => {
    const emulator = wxreach(['emulator', '--port', '0']);
    try {
      const [, url] = await emulator.waitFor(/WeChat emulator listening on (\S+)/);
      const token = await fetch(`${url}/cgi-bin/token?grant_type=client_credential&appid=${DEMO_ACCOUNT.appId}&secret=${DEMO_ACCOUNT.appSecret}`);
      expect(await token.json()).toMatchObject({ access_token: expect.any(String), expires_in: 7200 });
    } finally {
      emulator.signal('SIGTERM');
    }
    expect(await emulator.exited).toBe(0);
    expect(emulator.stdout()).not.toContain(DEMO_ACCOUNT.appSecret);

    const production = wxreach(['emulator', '--port', '0'], { NODE_ENV: 'production' });
    expect(await production.exited).toBe(1);
    expect(production.stderr()).toMatch(/refusing to start with NODE_ENV=production/);
    expect(production.stdout()).toBe('');
  });
});
