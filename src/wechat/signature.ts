import { createHash, hash, timingSafeEqual } from 'node:crypto';

/**
 * WeChat's signature: sort the parts as plain strings, concatenate, SHA-1, lower-case hex.
 * `signature` signs [token, timestamp, nonce]; `msg_signature` adds the <Encrypt> text
 * (docs/wechat-protocol-notes.md "Signatures").
 */
export function wechatSignature(parts: readonly string[]): string {
  return hash('sha1', [...parts].sort().join(''), 'hex');
}

/** Constant-time comparison of a received signature with the one computed from `parts`. */
export function signatureMatches(received: unknown, parts: readonly string[]): boolean {
  if (typeof received !== 'string' || received.length !== 40) return false;
  const expected = Buffer.from(wechatSignature(parts), 'utf8');
  const given = Buffer.from(received.toLowerCase(), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** What remembering used signatures needs from shared storage (a subset of the Store, so all instances agree). */
export interface SignatureMemory {
  /** Sets `key` to `value` for `ttlMs` unless it holds a value; true when set. */
  setValueIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  getValue(key: string): Promise<string | null>;
}

/**
 * `signature` covers token, timestamp and nonce but not the body, so whoever saw one request URL
 * could post any body under it while its timestamp is fresh. The first content seen under a
 * signature is remembered (a hash) for `ttlSeconds`: true for it and for the same content again
 * (WeChat re-sending), false for any other. `signature` must be the verified, lower-case one.
 * The first content and its record are one step, so a request racing it reads the same record.
 */
export async function signatureOnlyFor(memory: SignatureMemory, signature: string, content: string, ttlSeconds: number): Promise<boolean> {
  const key = `signature:${signature}`;
  // base64 (44 characters) rather than hex (64): Redis keeps a value this short inside its key's
  // own allocation, about 80 bytes less for each request remembered
  const digest = createHash('sha256').update(content).digest();
  const hash = digest.toString('base64');
  if (await memory.setValueIfAbsent(key, hash, ttlSeconds * 1000)) return true;
  const first = await memory.getValue(key);
  // hex: remembered by an instance of an earlier version, while a deployment rolls over
  return first === hash || first === digest.toString('hex');
}
