import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { TIMESTAMP_TOLERANCE_SECONDS, verifyWebhook, WebhookVerificationError, webhookKey } from '../../src/cli/webhook-signature';

/** Signatures made by the `standardwebhooks` package (the spec's reference library), checked by the CLI's verifier. */

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const NOW = Date.parse('2026-11-25T10:00:00Z');
const body = JSON.stringify({ type: 'notification.delivered', timestamp: '2026-11-25T10:00:00.000Z', data: { id: 'n1', status: 'delivered' } });

/** The headers `standardwebhooks` would send with `body`, signed at `at`. */
function signed(payload: string, at = NOW, secret = SECRET, id = 'msg_2kYh8Qe4') {
  return { id, timestamp: String(Math.floor(at / 1000)), signature: new Webhook(secret).sign(id, new Date(at), payload) };
}

const verify = (headers: Parameters<typeof verifyWebhook>[1], payload = body, now = NOW) => () => verifyWebhook(webhookKey(SECRET), headers, Buffer.from(payload), now);

describe('verifying Standard Webhooks signatures (wxreach webhooks listen)', () => {
  it('accepts what the standardwebhooks package signs, and the package accepts the same delivery', () => {
    // the package checks the timestamp against the real clock
    const now = Date.now();
    const headers = signed(body, now);
    expect(headers.signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(verify(headers, body, now)).not.toThrow();
    expect(() => new Webhook(SECRET).verify(body, { 'webhook-id': headers.id, 'webhook-timestamp': headers.timestamp, 'webhook-signature': headers.signature })).not.toThrow();
    // a multi-byte body is signed over its bytes
    const chinese = JSON.stringify({ type: 'notification.fallback_sent', data: { text: '您的订单已发货' } });
    expect(verify(signed(chinese), chinese)).not.toThrow();
  });

  it('accepts a header listing several signatures when one matches (key rotation), ignoring other schemes', () => {
    const good = signed(body);
    const other = signed(body, NOW, `whsec_${randomBytes(32).toString('base64')}`);
    expect(verify({ ...good, signature: `v1a,${good.signature.slice(3)} ${other.signature} ${good.signature}` })).not.toThrow();
    expect(verify({ ...good, signature: `v1a,${good.signature.slice(3)} ${other.signature}` })).toThrow('no v1 signature matches');
  });

  it('refuses a changed body, id or timestamp, another secret, a stale or future timestamp, and missing headers', () => {
    const good = signed(body);
    const refusals: Array<[string, () => void, RegExp]> = [
      ['changed body', verify(good, body.replace('delivered', 'failed')), /no v1 signature matches/],
      ['changed id', verify({ ...good, id: 'msg_other' }), /no v1 signature matches/],
      ['changed timestamp', verify({ ...good, timestamp: String(Number(good.timestamp) + 1) }), /no v1 signature matches/],
      ['another secret', verify(signed(body, NOW, `whsec_${randomBytes(32).toString('base64')}`)), /no v1 signature matches/],
      ['truncated signature', verify({ ...good, signature: good.signature.slice(0, -4) }), /no v1 signature matches/],
      ['stale', verify(signed(body, NOW - (TIMESTAMP_TOLERANCE_SECONDS + 1) * 1000)), /more than 5 minutes off/],
      ['future', verify(signed(body, NOW + (TIMESTAMP_TOLERANCE_SECONDS + 1) * 1000)), /more than 5 minutes off/],
      ['no signature', verify({ id: good.id, timestamp: good.timestamp }), /missing/],
      ['not a timestamp', verify({ ...good, timestamp: '2026-11-25' }), /not a number of seconds/],
    ];
    for (const [what, attempt, why] of refusals) {
      let thrown: unknown;
      try {
        attempt();
      } catch (err) {
        thrown = err;
      }
      expect([what, thrown instanceof WebhookVerificationError, (thrown as Error | undefined)?.message]).toEqual([what, true, expect.stringMatching(why)]);
    }
    // within the tolerance both ways
    expect(verify(signed(body, NOW - (TIMESTAMP_TOLERANCE_SECONDS - 5) * 1000))).not.toThrow();
    expect(verify(signed(body, NOW + (TIMESTAMP_TOLERANCE_SECONDS - 5) * 1000))).not.toThrow();
  });

  it('takes only whsec_ secrets of 24 to 64 bytes, saying what is wrong', () => {
    expect(webhookKey(SECRET)).toEqual(Buffer.from(SECRET.slice(6), 'base64'));
    expect(() => webhookKey(SECRET.slice(6))).toThrow(/not a webhook secret: must be whsec_ followed by base64/);
    expect(() => webhookKey(`whsec_${randomBytes(8).toString('base64')}`)).toThrow(/24 to 64 bytes/);
  });
});
