import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { Logger } from '../log/logger';

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

export function sendError(res: Response, err: HttpError): void {
  res.status(err.status).json({ error: { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) } });
}

export const notFound: RequestHandler = (req, _res, next) => next(new HttpError(404, 'not_found', `no route for ${req.method} ${req.path}`));

/** Body-parser failures keep their meaning (bad JSON is the caller's fault, not ours). */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, next) => {
    void next;
    if (err instanceof HttpError) return sendError(res, err);
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.parse.failed') return sendError(res, new HttpError(400, 'invalid_json', 'the body is not valid JSON'));
    if (e.type === 'entity.too.large') return sendError(res, new HttpError(413, 'body_too_large', 'the body is larger than allowed'));
    if (e.status && e.status >= 400 && e.status < 500) return sendError(res, new HttpError(e.status, 'bad_request', e.message ?? 'bad request'));
    log.error('request failed', { method: req.method, path: req.path, err });
    sendError(res, new HttpError(500, 'internal', 'internal error; the request can be retried'));
  };
}
