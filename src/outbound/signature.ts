import { createHmac, randomBytes } from 'node:crypto';

/**
 * Standard Webhooks signatures: `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`,
 * keyed with the bytes of the secret `whsec_<base64>`.
 */

const PREFIX = 'whsec_';
export const SECRET_BYTES = { min: 24, max: 64 } as const;

/** A `whsec_` secret's shape, for validation messages (the value is never echoed). */
export const SECRET_PATTERN = /^whsec_[A-Za-z0-9+/]+={0,2}$/;

/** A new secret: 32 random bytes. */
export function newSecret(): string {
  return `${PREFIX}${randomBytes(32).toString('base64')}`;
}

/** The key bytes of a secret, or null when it is not `whsec_` + base64 of 24 to 64 bytes. */
export function secretKey(secret: string): Buffer | null {
  if (!SECRET_PATTERN.test(secret)) return null;
  const encoded = secret.slice(PREFIX.length);
  const key = Buffer.from(encoded, 'base64');
  // base64 that does not round-trip is not what it claims to be
  if (key.toString('base64').replace(/=+$/, '') !== encoded.replace(/=+$/, '')) return null;
  return key.length >= SECRET_BYTES.min && key.length <= SECRET_BYTES.max ? key : null;
}

/** The headers of one attempt: `timestamp` in seconds since the epoch. */
export function signedHeaders(secret: string, id: string, timestamp: number, body: string): Record<string, string> {
  const key = secretKey(secret);
  if (!key) throw new TypeError('a webhook secret must be whsec_ + base64 of 24 to 64 bytes');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${signature}` };
}
