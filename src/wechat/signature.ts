import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * WeChat's signature: sort the parts as plain strings, concatenate, SHA-1, lower-case hex.
 * `signature` signs [token, timestamp, nonce]; `msg_signature` adds the <Encrypt> text.
 */
export function wechatSignature(parts: readonly string[]): string {
  return createHash('sha1').update([...parts].sort().join('')).digest('hex');
}

/** Constant-time comparison of a received signature with the one computed from `parts`. */
export function signatureMatches(received: unknown, parts: readonly string[]): boolean {
  if (typeof received !== 'string' || received.length !== 40) return false;
  const expected = Buffer.from(wechatSignature(parts), 'utf8');
  const given = Buffer.from(received.toLowerCase(), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
