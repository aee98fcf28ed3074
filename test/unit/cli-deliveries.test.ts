import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { run } from '../../src/cli/wxreach';
import { deliveryQueued, endpointRecovered, webhookDelivery, webhookDeliveryList } from '../../src/http/schemas/webhooks';

/**
 * `wxreach deliveries …` against a stand-in for a wxreach with the webhook routes, answering with
 * bodies checked against the routes' schemas; and against one without them (an older version).
 */

type Routes = Record<string, [status: number, body: unknown]>;

async function standIn(routes: Routes) {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    seen.push(`${req.method} ${req.url}`);
    const [status, body] = routes[`${req.method} ${path}`] ?? [404, { error: { code: 'not_found', message: `no route for ${req.method} ${path}` } }];
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function cli(argv: string[], now?: () => number) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, { out: (l) => out.push(l), err: (l) => err.push(l), env: { WXREACH_API_KEY: 'a-key-of-16-chars-or-more' } }, now);
  return { code, out, err: err.join('\n') };
}

const pending = webhookDelivery.parse({
  id: 'msg_2kYh8Qe4',
  endpoint: 'ep_1',
  webhookId: 'msg_2kYh8Qe4',
  type: 'notification.delivered',
  account: 'wx0123456789abcdef',
  subject: 'n00aaaaaaaaaaaaaaaaaaaaaa.wx0123456789abcdef',
  status: 'failed',
  attempts: 2,
  givenUp: false,
  createdAt: '2026-11-25T10:00:00.000Z',
  nextAttemptAt: '2026-11-25T10:05:05.000Z',
  lastAttempt: { at: '2026-11-25T10:00:05.000Z', ms: 12, status: 500, error: 'HTTP 500' },
});
const done = webhookDelivery.parse({ ...pending, id: 'msg_9zZ', status: 'succeeded', attempts: 1, lastAttempt: { at: '2026-11-25T10:00:01.000Z', ms: 12, status: 200 }, nextAttemptAt: null });

describe('wxreach deliveries', () => {
  it('list: a table (or the JSON) of the deliveries, filtered by status and endpoint', async () => {
    const body = webhookDeliveryList.parse({ deliveries: [pending, done], next: null });
    const s = await standIn({ 'GET /v1/webhook-deliveries': [200, body] });
    try {
      const table = await cli(['deliveries', 'list', '--url', s.url, '--status', 'failed', '--endpoint', 'ep_1']);
      expect(table.code).toBe(0);
      expect(s.seen).toEqual(['GET /v1/webhook-deliveries?status=failed&endpoint=ep_1']);
      expect(table.out).toEqual([
        'ID            ENDPOINT  TYPE                    STATUS     ATTEMPTS  LAST ATTEMPT                  NEXT ATTEMPT',
        'msg_2kYh8Qe4  ep_1      notification.delivered  failed     2         2026-11-25T10:00:05.000Z 500  2026-11-25T10:05:05.000Z',
        'msg_9zZ       ep_1      notification.delivered  succeeded  1         2026-11-25T10:00:01.000Z 200  -',
      ]);
      const json = await cli(['deliveries', 'list', '--url', s.url, '--json']);
      expect(JSON.parse(json.out.join('\n'))).toEqual(body);
    } finally {
      await s.close();
    }
  });

  it('retry and recover call their routes; recover takes an age as well as a time', async () => {
    const s = await standIn({
      'POST /v1/webhook-deliveries/msg_2kYh8Qe4/retry': [202, deliveryQueued.parse({ id: 'msg_2kYh8Qe4', status: 'queued' })],
      'POST /v1/webhook-endpoints/ep_1/recover': [202, endpointRecovered.parse({ endpoint: 'ep_1', since: '2026-11-25T10:00:00.000Z', deliveries: 3 })],
    });
    try {
      const retried = await cli(['deliveries', 'retry', 'msg_2kYh8Qe4', '--url', s.url]);
      expect([retried.code, retried.out]).toEqual([0, ['scheduled msg_2kYh8Qe4 again (queued)']]);
      const now = Date.parse('2026-11-25T12:00:00Z');
      const recovered = await cli(['deliveries', 'recover', 'ep_1', '--since', '2h', '--url', s.url], () => now);
      expect([recovered.code, recovered.out]).toEqual([0, ['3 deliveries to ep_1 that failed since 2026-11-25T10:00:00.000Z scheduled again']]);
      expect((await cli(['deliveries', 'recover', 'ep_1', '--since', '2026-11-24T00:00:00Z', '--url', s.url])).code).toBe(0);
      expect(s.seen).toEqual([
        'POST /v1/webhook-deliveries/msg_2kYh8Qe4/retry',
        'POST /v1/webhook-endpoints/ep_1/recover?since=2026-11-25T10%3A00%3A00.000Z',
        'POST /v1/webhook-endpoints/ep_1/recover?since=2026-11-24T00%3A00%3A00Z',
      ]);
      const bad = await cli(['deliveries', 'recover', 'ep_1', '--since', 'last week', '--url', s.url]);
      expect([bad.code, bad.err]).toEqual([2, expect.stringContaining('not a time: give an ISO time')]);
    } finally {
      await s.close();
    }
  });

  it('an unknown delivery exits 1 with the API’s message; a wxreach without the routes says so', async () => {
    const s = await standIn({ 'POST /v1/webhook-deliveries/msg_nope/retry': [404, { error: { code: 'not_found', message: 'no delivery msg_nope' } }] });
    try {
      const unknown = await cli(['deliveries', 'retry', 'msg_nope', '--url', s.url]);
      expect([unknown.code, unknown.err]).toEqual([1, 'wxreach: POST /v1/webhook-deliveries/msg_nope/retry failed: HTTP 404 not_found: no delivery msg_nope']);
      const older = await cli(['deliveries', 'list', '--url', s.url]);
      expect([older.code, older.err]).toEqual([1, `wxreach: GET /v1/webhook-deliveries: the wxreach at ${s.url} does not have this route (an older version?)`]);
    } finally {
      await s.close();
    }
  });
});
