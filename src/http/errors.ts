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

/** Body-parser failures keep their meaning (bad JSON is the caller's fault, not ours). */
export function errorHandler(log: Logger): ErrorRequestHandler {
  const toHttpError = (err: unknown, req: Request): HttpError => {
    if (err instanceof HttpError) return err;
    if (err instanceof StoreUnavailableError) {
      log.warn('store unavailable', { method: req.method, path: req.path, reason: err.message });
      return new HttpError(503, 'store_unavailable', 'the store cannot be reached; retry later (with the same Idempotency-Key)');
    }
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.parse.failed') return new HttpError(400, 'invalid_json', 'the body is not valid JSON');
    if (e.type === 'entity.too.large') return new HttpError(413, 'body_too_large', 'the body is larger than allowed');
    if (e.status && e.status >= 400 && e.status < 500) return new HttpError(e.status, 'bad_request', e.message ?? 'bad request');
    log.error('request failed', { method: req.method, path: req.path, err });
    return new HttpError(500, 'internal', 'internal error; the request can be retried');
  };
  return (err, req, res, next) => {
    void next;
    const httpError = toHttpError(err, req);
    if (httpError.code === 'store_unavailable') res.set('Retry-After', String(STORE_RETRY_AFTER_SECONDS));
    sendError(res, httpError);
  };
}
