import type { IncomingMessage } from 'node:http';
import * as utf8Body from '../../src/http/utf8-body';
import { API_KEY, USER, startHarness, type Harness } from '../helpers/harness';

/**
 * POST /v1/notifications is answered by an edge on node:http (src/http/notification-edge.ts) in
 * the plain case, and by the express route otherwise (here: the same path with a query string).
 * Each request below is sent both ways and must be answered alike.
 */
describe('POST /v1/notifications on its node:http edge', () => {
  let h: Harness;
  // The edge reads a body it takes with readUtf8; express reads it with its own parser (the /wechat
  // edge's reads of the emulator's pushes are left out): which way a request went.
  const reads = jest.spyOn(utf8Body, 'readUtf8');
  const edgeReads = () => reads.mock.calls.filter(([req]) => (req as IncomingMessage).url === '/v1/notifications').length;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    reads.mockRestore();
    await h.close();
  });

  const valid = (order: string) => JSON.stringify({ openid: USER, template: 'order_paid', data: { order_no: order, amount: '2.00' } });
  const json = { 'content-type': 'application/json' };
  const auth = { authorization: `Bearer ${API_KEY}` };

  /** The answer to `body` with `headers`, at the edge (`via` '') or through express (`via` '?via=express'). */
  async function post(via: string, body: string, headers: Record<string, string>) {
    const before = edgeReads();
    const res = await fetch(`${h.service.url}/v1/notifications${via}`, { method: 'POST', headers, body });
    return {
      status: res.status,
      type: res.headers.get('content-type'),
      replayed: res.headers.get('idempotent-replayed'),
      read: edgeReads() > before ? 'edge' : 'express',
      body: (await res.json()) as Record<string, unknown>,
    };
  }

  /**
   * Sends the request both ways; expects the same answer, `id`s aside; returns the edge's.
   * `read` false: a request refused before its body is read (a bad key), by either way.
   */
  async function alike(body: (way: string) => string, headers: Record<string, string>, read = true) {
    const edge = await post('', body('edge'), headers);
    const viaExpress = await post('?via=express', body('express'), headers);
    expect(edge.read).toBe(read ? 'edge' : 'express');
    expect(viaExpress.read).toBe('express');
    const comparable = ({ read: way, ...a }: typeof edge) => (void way, { ...a, body: { ...a.body, id: typeof a.body.id } });
    expect(comparable(edge)).toEqual(comparable(viaExpress));
    return edge;
  }

  it('accepts a notice (202 with its id), also after a byte-order mark', async () => {
    const edge = await alike((way) => valid(`E-${way}`), { ...json, ...auth });
    expect(edge).toMatchObject({ status: 202, type: 'application/json; charset=utf-8', body: { status: 'queued', id: expect.stringMatching(/^n/) } });
    await expect(alike((way) => `\ufeff${valid(`BOM-${way}`)}`, { ...json, ...auth })).resolves.toMatchObject({ status: 202 });
  });

  it('answers refusals in the API error shape: a wrong key, bad JSON, JSON not an object, an empty body, a bad field, an unknown template', async () => {
    await expect(alike((way) => valid(way), { ...json, authorization: 'Bearer wrong-key-0000000000' }, false)).resolves.toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    await expect(alike(() => '{"openid":', { ...json, ...auth })).resolves.toMatchObject({ status: 400, body: { error: { code: 'invalid_json' } } });
    await expect(alike(() => '123', { ...json, ...auth })).resolves.toMatchObject({ status: 400, body: { error: { code: 'invalid_json' } } });
    await expect(alike(() => '', { ...json, ...auth })).resolves.toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    const badField = await alike(() => JSON.stringify({ openid: 'x', template: 'order_paid', data: { a: '1' } }), { ...json, ...auth });
    expect(badField).toMatchObject({ status: 400, body: { error: { code: 'invalid_request', details: [{ field: 'openid' }] } } });
    const unknown = await alike(() => JSON.stringify({ openid: USER, template: 'no_such', data: { a: '1' } }), { ...json, ...auth });
    expect(unknown).toMatchObject({ status: 400, body: { error: { code: 'unknown_template' } } });
  });

  it('replays an Idempotency-Key the same way: the first call at the edge, the repeats both ways', async () => {
    const headers = { ...json, ...auth, 'idempotency-key': 'edge-replay-1' };
    const first = await post('', valid('R1'), headers);
    expect(first).toMatchObject({ status: 202, replayed: null, read: 'edge' });
    const again = await alike(() => valid('R1'), headers);
    expect(again).toMatchObject({ status: 202, replayed: 'true', body: { status: 'queued' } });
    expect((await post('', valid('R1'), headers)).body.id).toBe(first.body.id);
    const conflict = await alike(() => valid('R2'), headers);
    expect(conflict).toMatchObject({ status: 409, body: { error: { code: 'idempotency_conflict', details: { id: first.body.id } } } });
  });

  it('leaves what is not the plain case to express: another charset (which it refuses), no Content-Length', async () => {
    const latin1 = await post('', valid('L1'), { 'content-type': 'application/json; charset=iso-8859-1', ...auth });
    expect(latin1).toMatchObject({ status: 415, read: 'express' });
    const before = edgeReads();
    const chunked = await fetch(`${h.service.url}/v1/notifications`, {
      method: 'POST',
      headers: { ...json, ...auth },
      body: new Blob([valid('C1')]).stream(),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(202);
    expect(edgeReads()).toBe(before);
  });
});
