import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { Logger } from '../log/logger';
import { StoreUnavailableError } from '../store/unavailable';

/** The one error shape of the API: { error: { code, message, details? } }. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Seconds a client should wait before retrying while the store is unreachable. */
const STORE_RETRY_AFTER_SECONDS = 2;

export function sendError(res: Response, err: HttpError): void {
  res.status(err.status).json({ error: { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) } });
}

export const notFound: RequestHandler = (req, _res, next) => next(new HttpError(404, 'not_found', `no route for ${req.method} ${req.path}`));

export const bodyTooLarge = () => new HttpError(413, 'body_too_large', 'the body is larger than allowed');

export const invalidJson = () => new HttpError(400, 'invalid_json', 'the body is not valid JSON');

/** The request announced a body that has not been read to its end. */
const bodyUnread = (req: Request) =>
  !req.complete && ((req.headers['content-length'] ?? '0') !== '0' || req.headers['transfer-encoding'] !== undefined);

/**
 * After the answer, a connection being closed is dropped this long later, or once this much more
 * has arrived: enough for a client to read the answer and stop sending, even when it is slow to.
 */
const LINGER_MS = 2000;
const LINGER_BYTES = 4 * 1024 * 1024;

/**
 * Ends the connection after this answer instead of reading the rest of the body (`Connection:
 * close`). Node would destroy the socket as soon as the answer is written; a socket destroyed with
 * unread data is reset by the kernel, which can discard the answer before it reaches the client.
 * So the socket sends the answer and its end, and is destroyed a moment later.
 */
function closeAfterAnswer(req: Request, res: Response): void {
  res.set('Connection', 'close');
  const socket = req.socket;
  socket.destroySoon = () => {
    socket.end();
    let discarded = 0;
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    socket.on('data', (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > LINGER_BYTES) socket.destroy();
    });
    socket.once('close', () => clearTimeout(timer));
  };
}

/** Body-parser failures keep their meaning (bad JSON is the caller's fault, not ours). */
export function errorHandler(log: Logger): ErrorRequestHandler {
  const toHttpError = (err: unknown, req: Request): HttpError => {
    if (err instanceof HttpError) return err;
    if (err instanceof StoreUnavailableError) {
      log.warn('store unavailable', { method: req.method, path: req.path, reason: err.message });
      return new HttpError(503, 'store_unavailable', 'the store cannot be reached; retry later (with the same Idempotency-Key)');
    }
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.parse.failed') return invalidJson();
    if (e.type === 'entity.too.large') return bodyTooLarge();
    if (e.status && e.status >= 400 && e.status < 500) return new HttpError(e.status, 'bad_request', e.message ?? 'bad request');
    log.error('request failed', { method: req.method, path: req.path, err });
    return new HttpError(500, 'internal', 'internal error; the request can be retried');
  };
  return (err, req, res, next) => {
    void next;
    const httpError = toHttpError(err, req);
    if (httpError.code === 'store_unavailable') res.set('Retry-After', String(STORE_RETRY_AFTER_SECONDS));
    // Keeping the connection would mean reading the rest of a body nobody wants (a 100 MB upload
    // after its 413, a trickle after a 401): close it once the answer is out.
    if (httpError.status === 413 || bodyUnread(req)) closeAfterAnswer(req, res);
    sendError(res, httpError);
  };
}
