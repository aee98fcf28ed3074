import { Webhook } from 'standardwebhooks';
import { newSecret, secretKey, signedHeaders } from '../../src/outbound/signature';

describe('Standard Webhooks signatures', () => {
  it('signs so that the standardwebhooks package verifies, unchanged', () => {
    const secret = newSecret();
    const body = JSON.stringify({ type: 'notification.delivered', timestamp: '2026-01-01T00:00:00.000Z', data: { id: 'n1', text: '订单 A1 已支付' } });
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = signedHeaders(secret, 'evt_1', timestamp, body);
    expect(headers).toEqual({ 'webhook-id': 'evt_1', 'webhook-timestamp': String(timestamp), 'webhook-signature': expect.stringMatching(/^v1,[A-Za-z0-9+/]+=*$/) });
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    // and the package's own signature is the same
    expect(headers['webhook-signature']).toBe(new Webhook(secret).sign('evt_1', new Date(timestamp * 1000), body));
  });

  it('is refused for another body, id, timestamp or secret', () => {
    const secret = newSecret();
    const now = Math.floor(Date.now() / 1000);
    const headers = signedHeaders(secret, 'evt_1', now, '{"a":1}');
    const verify = (s: string, body: string, h: Record<string, string>) => () => new Webhook(s).verify(body, h);
    expect(verify(secret, '{"a":2}', headers)).toThrow();
    expect(verify(secret, '{"a":1}', { ...headers, 'webhook-id': 'evt_2' })).toThrow();
    expect(verify(secret, '{"a":1}', { ...headers, 'webhook-timestamp': String(now + 1) })).toThrow();
    expect(verify(newSecret(), '{"a":1}', headers)).toThrow();
    // too old for the receiver: the timestamp is the attempt's, not the event's
    expect(verify(secret, '{"a":1}', signedHeaders(secret, 'evt_1', now - 600, '{"a":1}'))).toThrow(/too old/i);
  });

  it('makes secrets of whsec_ and 32 random bytes, different each time', () => {
    const a = newSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(secretKey(a)).toHaveLength(32);
    expect(newSecret()).not.toBe(a);
  });

  it('accepts secrets of 24 to 64 bytes only, in base64 after whsec_', () => {
    const of = (n: number) => `whsec_${Buffer.alloc(n, 7).toString('base64')}`;
    expect(secretKey(of(24))).toHaveLength(24);
    expect(secretKey(of(64))).toHaveLength(64);
    for (const bad of [of(23), of(65), Buffer.alloc(32, 7).toString('base64'), 'whsec_', 'whsec_not base64!', `whsec_${Buffer.alloc(32).toString('base64url')}-_`]) {
      expect([bad, secretKey(bad)]).toEqual([bad, null]);
    }
    expect(() => signedHeaders('whsec_short', 'evt_1', 1, '{}')).toThrow(/24 to 64 bytes/);
  });
});
