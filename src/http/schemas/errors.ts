import { z } from 'zod';

/**
 * Every error code the API answers with: its HTTP status and what it means. The document lists
 * them per route, so a client can switch on `error.code` without reading the server.
 */
export const ERROR_CODES = {
  invalid_request: [400, 'a field, query parameter or header is wrong; `details` names each one'],
  invalid_json: [400, 'the body is not valid JSON'],
  bad_request: [400, 'the body could not be read as sent (e.g. an unsupported charset)'],
  unknown_account: [400, 'the account is neither configured nor authorised here'],
  unknown_template: [400, 'the template is neither a configured name nor an id the account has'],
  unauthorized: [401, 'no API key, or an unknown one'],
  forbidden: [403, 'the API key may not use this account'],
  csrf: [403, 'a request with the console’s session cookie that changes something lacks the session’s `x-csrf-token` header'],
  not_found: [404, 'no such route, or no such object for this API key (another key’s objects answer the same)'],
  account_unauthorized: [409, 'the merchant revoked the platform’s authorisation: nothing can be sent for it'],
  too_many_endpoints: [409, 'this API key has registered as many webhook endpoints as it may; delete one first'],
  config_endpoint: [409, 'the webhook endpoint is defined in the config: change it there'],
  delivery_waiting: [409, 'an earlier event of the same notice has not been accepted or given up by this endpoint yet; this delivery follows it'],
  idempotency_conflict: [409, 'the Idempotency-Key was used with another body; `details.id` is the first notification'],
  not_configured: [409, 'the third-party platform lacks a setting this call needs (e.g. `publicUrl`)'],
  busy: [409, 'another instance is doing the same work right now; retry in a moment'],
  body_too_large: [413, 'the body is larger than the route takes; the connection is closed'],
  unsupported_media_type: [415, 'the body is not application/json'],
  internal: [500, 'a bug or an unexpected failure; the request can be retried'],
  wechat_refused: [502, 'WeChat refused the call; `details.errcode` (and `details.fix`) say why'],
  wechat_unreachable: [502, 'WeChat could not be reached'],
  no_verify_ticket: [503, 'WeChat has not pushed a component_verify_ticket yet; retry in a few minutes'],
  store_unavailable: [503, 'Redis cannot be reached; retry after `Retry-After` seconds (with the same Idempotency-Key)'],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** One wrong field of a request: `data.amount`, `account`, `Idempotency-Key`… */
export const fieldError = z.object({ field: z.string(), message: z.string() });

const details = z
  .union([z.array(fieldError), z.record(z.string(), z.unknown())])
  .describe('the fields at fault (a list) or facts about the error (an object)');

/** `{ error: { code, message, details? } }`, with `code` one of `codes`. */
export function errorBody(codes: readonly [ErrorCode, ...ErrorCode[]]) {
  return z.object({ error: z.object({ code: z.enum(codes), message: z.string().describe('for people: what went wrong and what to do'), details: details.optional() }) });
}

/** The error shape of every route, with any code. */
export const apiError = errorBody(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]).describe('The one error shape of the API.');
