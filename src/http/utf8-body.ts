import type { IncomingMessage } from 'node:http';
import { bodyTooLarge } from './errors';

/**
 * Whether the body comes as plain UTF-8 (no content encoding, no other charset named), the way the
 * node:http edges read it themselves; any other body goes through express's parsers.
 */
export function plainUtf8(req: IncomingMessage): boolean {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return false;
  const type = req.headers['content-type'];
  return type === undefined || !/charset/i.test(type) || /;\s*charset\s*=\s*"?utf-?8"?\s*(;|$)/i.test(type);
}

const BOM = 0xfeff;

/**
 * Reads a UTF-8 body of at most `limit` bytes (without a leading byte-order mark, as express's
 * parsers give it); over it, stops reading and gives the 413 error. A client that goes away gets
 * no answer, so `done` is not called then.
 */
export function readUtf8(req: IncomingMessage, limit: number, done: (err: unknown, body?: string) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  const stop = () => {
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('error', stop);
  };
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size <= limit) return void chunks.push(chunk);
    stop();
    req.pause();
    done(bodyTooLarge());
  };
  const onEnd = () => {
    stop();
    const body = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks, size).toString('utf8');
    done(undefined, body.charCodeAt(0) === BOM ? body.slice(1) : body);
  };
  req.on('data', onData).on('end', onEnd).on('error', stop);
}
