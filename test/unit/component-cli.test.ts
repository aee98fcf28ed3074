import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { run } from '../../src/cli/wxreach';

interface Seen {
  method: string;
  url: string;
  authorization?: string;
}

/** A stand-in for a running wxreach: answers `status` and `body` and records each request. */
async function wxreach(status: number, body: unknown): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization });
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise((r) => server.close(() => r())) };
}

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, { out: (l) => out.push(l), err: (l) => err.push(l), env });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('wxreach CLI', () => {
  it('accounts recover posts with the key from the environment and prints the summary', async () => {
    const server = await wxreach(200, { restored: ['wxa1', 'wxb2'], unchanged: 5, needsAuthorisation: ['wxc3'], revoked: [] });
    try {
      const r = await cli(['accounts', 'recover', '--url', `${server.url}/`], { WXREACH_API_KEY: 'env-key' });
      expect(r.code).toBe(0);
      expect(server.seen).toEqual([{ method: 'POST', url: '/v1/component/recover', authorization: 'Bearer env-key' }]);
      expect(r.out).toContain('restored:            2 (wxa1, wxb2)');
      expect(r.out).toContain('unchanged:           5');
      expect(r.out).toContain('needs authorisation: 1 (wxc3)');
      expect(r.out).toContain('revoked:             0');
      expect(r.out).toMatch(/authorize-url/);
    } finally {
      await server.close();
    }
  });

  it('--key wins over the environment; --json prints the answer as it came', async () => {
    const merchant = { appid: 'wxa1a1a1a1a1a1a1a1', kind: 'authorizer', state: 'active', token: { ok: true }, templates: { valid: ['order_paid'], invalid: [] }, templateQuota: { paused: false } };
    const body = { accounts: [merchant] };
    const server = await wxreach(200, body);
    try {
      const r = await cli(['accounts', 'list', '--url', server.url, '--key', 'flag-key', '--json'], { WXREACH_API_KEY: 'env-key' });
      expect(r.code).toBe(0);
      expect(server.seen).toEqual([{ method: 'GET', url: '/v1/accounts', authorization: 'Bearer flag-key' }]);
      expect(JSON.parse(r.out)).toEqual(body);
      const table = await cli(['accounts', 'list', '--url', server.url]);
      expect(table.out.split('\n')).toEqual([
        'APPID               KIND        STATE   TOKEN  TEMPLATES   TEMPLATE QUOTA',
        'wxa1a1a1a1a1a1a1a1  authorizer  active  ok     order_paid  ok',
      ]);
      // `accounts` alone lists them too, and --api-key is --key's long name
      expect((await cli(['accounts', '--url', server.url, '--api-key', 'long-key'])).out).toBe(table.out);
      expect(server.seen.at(-1)).toEqual({ method: 'GET', url: '/v1/accounts', authorization: 'Bearer long-key' });
    } finally {
      await server.close();
    }
  });

  it("an error answer exits 1 with wxreach's message and a hint for a missing key", async () => {
    const server = await wxreach(401, { error: { code: 'unauthorized', message: 'missing "Authorization: Bearer <key>" header' } });
    try {
      const r = await cli(['accounts', 'recover', '--url', server.url]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/HTTP 401 unauthorized: missing "Authorization: Bearer <key>" header \(pass --api-key or set WXREACH_API_KEY\)/);
    } finally {
      await server.close();
    }
  });

  it('a wxreach that cannot be reached exits 1 saying where it looked', async () => {
    const server = await wxreach(200, {});
    await server.close(); // nothing listens there any more
    const r = await cli(['accounts', 'recover', '--url', server.url]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`wxreach: cannot reach wxreach at ${server.url}: ECONNREFUSED`);
  });

  it('an unknown command or option says so and exits 2; --help exits 0', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /^Usage: wxreach \[options\] \[command\]/],
      [['accounts', 'delete'], /^error: unknown command 'accounts delete'/],
      [['accounts', 'list', '--bogus'], /^error: unknown option '--bogus'/],
      [['bogus'], /^error: unknown command 'bogus'/],
    ];
    for (const [argv, message] of cases) {
      const r = await cli(argv);
      expect([argv, r.code, r.err]).toEqual([argv, 2, expect.stringMatching(message)]);
    }
    const help = await cli(['--help']);
    expect([help.code, help.out]).toEqual([0, expect.stringMatching(/^Usage: wxreach .*accounts/s)]);
  });
});
