import type { RequestHandler } from 'express';
import { bodyTooLarge } from './errors';

/** The largest body any route takes: WeChat's pushes and the API's requests are a few KB (anything bigger is not from WeChat). */
export const BODY_LIMIT_BYTES = 64 * 1024;

/**
 * Refuses a body whose Content-Length is over `limit` before reading any of it (the body parsers
 * would read it to its end before answering 413); the error handler then closes the connection.
 * A chunked body is cut by the parsers at the limit, and the server's request timeout bounds it.
 */
export function refuseLargeBodies(limit: number): RequestHandler {
  return (req, _res, next) => {
    next(Number(req.headers['content-length'] ?? 0) > limit ? bodyTooLarge() : undefined);
  };
}
