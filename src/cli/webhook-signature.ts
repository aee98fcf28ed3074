import { createHmac, timingSafeEqual } from 'node:crypto';
import { webhookSecret } from '../http/schemas/webhooks';

/**
 * Verifying a Standard Webhooks delivery as a receiver does: `webhook-signature` holds one or more
 * space-separated `v1,<base64 HMAC-SHA256>` over `<webhook-id>.<webhook-timestamp>.<raw body>`,
 * keyed with the bytes of the `whsec_` secret; a timestamp more than five minutes off is refused
 * (a replay). The `standardwebhooks` package verifies the same way.
 */

export const TIMESTAMP_TOLERANCE_SECONDS = 5 * 60;

export class WebhookVerificationError extends Error {}

/** The signing key of a `whsec_` secret; a clear error for anything else. */
export function webhookKey(secret: string): Buffer {
  const checked = webhookSecret.safeParse(secret);
  if (!checked.success) throw new TypeError(`not a webhook secret: ${checked.error.issues[0].message} (the whsec_… shown once when the endpoint was made)`);
  return Buffer.from(secret.slice('whsec_'.length), 'base64');
}

export interface WebhookHeaders {
  id?: string;
  timestamp?: string;
  signature?: string;
}

/** Returns when the delivery is signed with `key` and fresh; throws WebhookVerificationError saying why not. */
export function verifyWebhook(key: Buffer, headers: WebhookHeaders, body: Buffer, nowMs: number): void {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature) throw new WebhookVerificationError('missing webhook-id, webhook-timestamp or webhook-signature header');
  if (!/^\d{1,15}$/.test(timestamp)) throw new WebhookVerificationError('webhook-timestamp is not a number of seconds');
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > TIMESTAMP_TOLERANCE_SECONDS) {
    throw new WebhookVerificationError(`webhook-timestamp is more than ${TIMESTAMP_TOLERANCE_SECONDS / 60} minutes off this clock`);
  }
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
  const matches = signature.split(' ').some((entry) => {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || value === undefined) return false;
    const given = Buffer.from(value, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) throw new WebhookVerificationError('no v1 signature matches this secret');
}
