import type { RequestHandler } from 'express';
import { bodyTooLarge } from './errors';

/** The largest body a route takes: WeChat's pushes and the API's requests are a few KB (anything bigger is not from WeChat). */
export const BODY_LIMIT_BYTES = 64 * 1024;

/** POST /v1/notifications/batch takes up to 1,000 notices: room for 4 KB each (a typical one is under 500 bytes). */
export const BATCH_BODY_LIMIT_BYTES = 4 * 1024 * 1024;

/** The routes that take more than BODY_LIMIT_BYTES, by path. */
export const LARGER_BODIES: Readonly<Record<string, number>> = { '/v1/notifications/batch': BATCH_BODY_LIMIT_BYTES };

/**
 * Refuses a body whose Content-Length is over `limit` (or the path's own limit in `larger`) before
 * reading any of it (the body parsers would read it to its end before answering 413); the error
 * handler then closes the connection. A chunked body is cut by the parsers at the limit, and the
 * server's request timeout bounds it.
 */
export function refuseLargeBodies(limit: number, larger: Readonly<Record<string, number>> = {}): RequestHandler {
  return (req, _res, next) => {
    const allowed = Object.hasOwn(larger, req.path) ? larger[req.path] : limit;
    next(Number(req.headers['content-length'] ?? 0) > allowed ? bodyTooLarge() : undefined);
  };
}
