import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { run } from '../../src/cli/wxreach';
import { WEBHOOK_EVENTS } from '../../src/http/schemas/webhooks';

/** `wxreach webhooks listen` as a receiver: deliveries signed by the standardwebhooks package, over real HTTP. */

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

interface Listening {
  url: string;
  out: string[];
  err: string[];
  /** Ctrl-C: resolves with the exit code. */
  stop(): Promise<number>;
}

async function listen(extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Listening> {
  const ctrlC = new AbortController();
  const out: string[] = [];
  const err: string[] = [];
  const done = run(['webhooks', 'listen', '--port', '0', ...extra], { out: (l) => out.push(l), err: (l) => err.push(l), env, signal: ctrlC.signal });
  for (let i = 0; i < 200; i++) {
    const url = /listening on (\S+)/.exec(err.join('\n'))?.[1];
    if (url) return { url, out, err, stop: () => (ctrlC.abort(), done) };
    if (await Promise.race([done.then(() => true), new Promise((r) => setTimeout(() => r(false), 10))])) break;
  }
  throw new Error(`not listening: ${err.join('\n')}`);
}

/** POSTs `payload` as wxreach does, signed with `secret` at `at`. */
async function deliver(url: string, payload: unknown, o: { id?: string; secret?: string; at?: Date } = {}) {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const id = o.id ?? `msg_${randomBytes(6).toString('hex')}`;
  const at = o.at ?? new Date();
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(o.secret ?? SECRET).sign(id, at, body),
    },
    body,
  });
  return { status: res.status, text: await res.text(), id };
}

const delivered = {
  type: 'notification.delivered',
  timestamp: '2026-11-25T10:00:05.000Z',
  data: { id: 'n0a1b2c3.wx5a7b9c1d3e5f7a9b', account: 'wx5a7b9c1d3e5f7a9b', status: 'delivered', openid: 'oUSER', template: 'order_paid', history: [] },
};
const failed = { ...delivered, type: 'notification.failed', data: { ...delivered.data, status: 'failed', reason: 'user_blocked_messages' } };
const invalid = WEBHOOK_EVENTS['template.invalid'].parse({
  type: 'template.invalid',
  timestamp: '2026-11-25T10:01:00.000Z',
  data: { account: 'wx5a7b9c1d3e5f7a9b', templateId: 'TPL_ORDER_PAID', valid: false, since: '2026-11-25T10:01:00.000Z', reason: 'errcode 40037' },
});

describe('wxreach webhooks listen', () => {
  it('answers 204 to each verified delivery and prints the event; a retry of the same webhook-id is marked', async () => {
    const l = await listen(['--secret', SECRET]);
    try {
      const first = await deliver(l.url, delivered);
      expect(first.status).toBe(204);
      expect((await deliver(l.url, failed)).status).toBe(204);
      expect((await deliver(l.url, invalid)).status).toBe(204);
      expect((await deliver(l.url, delivered, { id: first.id })).status).toBe(204);
      expect(l.out).toEqual([
        `2026-11-25T10:00:05.000Z  notification.delivered  n0a1b2c3.wx5a7b9c1d3e5f7a9b delivered  [${first.id}]`,
        expect.stringMatching(/^2026-11-25T10:00:05.000Z {2}notification\.failed {2}n0a1b2c3\.wx5a7b9c1d3e5f7a9b failed \(user_blocked_messages\) {2}\[msg_\w+\]$/),
        expect.stringMatching(/^2026-11-25T10:01:00.000Z {2}template\.invalid {2}wx5a7b9c1d3e5f7a9b TPL_ORDER_PAID: errcode 40037 {2}\[msg_\w+\]$/),
        `2026-11-25T10:00:05.000Z  notification.delivered  n0a1b2c3.wx5a7b9c1d3e5f7a9b delivered  [${first.id}, again]`,
      ]);
      expect(l.err.filter((line) => line.startsWith('refused'))).toEqual([]);
    } finally {
      expect(await l.stop()).toBe(0);
    }
  });

  it('refuses a forged, stale or unsigned delivery with 401 and a signed non-object with 400, saying why; never 410', async () => {
    const l = await listen(['--secret', SECRET]);
    try {
      const forged = await deliver(l.url, delivered, { secret: `whsec_${randomBytes(32).toString('base64')}` });
      const stale = await deliver(l.url, delivered, { at: new Date(Date.now() - 10 * 60_000) });
      const unsigned = await fetch(l.url, { method: 'POST', body: JSON.stringify(delivered) });
      const notObject = await deliver(l.url, '[1,2]');
      const get = await fetch(l.url);
      expect([forged.status, stale.status, unsigned.status, notObject.status, get.status]).toEqual([401, 401, 401, 400, 405]);
      expect(l.out).toEqual([]);
      expect(l.err.filter((line) => line.startsWith('refused'))).toEqual([
        'refused a request: no v1 signature matches this secret',
        'refused a request: webhook-timestamp is more than 5 minutes off this clock',
        'refused a request: missing webhook-id, webhook-timestamp or webhook-signature header',
        'refused a request: a signed body that is not a JSON object',
      ]);
    } finally {
      await l.stop();
    }
  });

  it('--json prints each event as one JSON line; the secret may come from WXREACH_WEBHOOK_SECRET', async () => {
    const l = await listen(['--json'], { WXREACH_WEBHOOK_SECRET: SECRET });
    try {
      const { id } = await deliver(l.url, delivered);
      expect(l.out.map((line) => JSON.parse(line) as unknown)).toEqual([{ webhookId: id, again: false, ...delivered }]);
    } finally {
      await l.stop();
    }
  });

  it('Ctrl-C stops it and frees the port', async () => {
    const l = await listen(['--secret', SECRET]);
    expect(await l.stop()).toBe(0);
    await expect(fetch(l.url, { method: 'POST' })).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
  });

  it('without a secret, or with one that is not whsec_…, it does not start (exit 2)', async () => {
    const io = () => {
      const err: string[] = [];
      return { err, io: { out: () => undefined, err: (l: string) => err.push(l), env: {} } };
    };
    const none = io();
    expect(await run(['webhooks', 'listen', '--port', '0'], none.io)).toBe(2);
    expect(none.err.join('\n')).toMatch(/required option '--secret <whsec>' not specified \(or set WXREACH_WEBHOOK_SECRET\)/);
    const bad = io();
    expect(await run(['webhooks', 'listen', '--port', '0', '--secret', 'my-password'], bad.io)).toBe(2);
    expect(bad.err.join('\n')).toMatch(/not a webhook secret: must be whsec_ followed by base64/);
    expect(bad.err.join('\n')).not.toMatch(/listening/);
  });
});
