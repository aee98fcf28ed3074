import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiDeps } from './api-router';
import { bearerIdentity, type KeyIdentity } from './auth';
import { BODY_LIMIT_BYTES } from './body-limit';
import { invalidJson } from './errors';
import { acceptedBody, NotificationIntake } from './notification-intake';
import { plainUtf8, readUtf8 } from './utf8-body';
import type { HandOn } from './wechat-router';

/** What the edge takes: POST /v1/notifications as a client sends it, a JSON body of known length. */
const PATH = '/v1/notifications';
const JSON_TYPE = /^application\/json\s*(;|$)/i;

/** body-parser's strict mode, which the API's JSON routes use: the body is an object or an array. */
const STRICT_JSON = /^[ \t\n\r]*[{[]/;

/** The 202's headers but its length, made once. */
const TYPE = ['content-type', 'application/json; charset=utf-8'];
const REPLAYED = ['idempotent-replayed', 'true'];

/**
 * POST /v1/notifications, the business's hot path, answered on node:http directly ahead of express
 * (as the /wechat edge is): its router, middleware chain and body parser cost about as much CPU as
 * everything else a single call does. It takes a request only when it is the plain case: that exact
 * path, a Bearer key, a UTF-8 JSON body with a Content-Length within the limit. Anything else (a
 * console session's cookie, a query string, another charset, a chunked or too large body) goes the
 * express way, to the same route. Its answers are the route's: the 202, and for anything else the
 * error handed on to the app's error handler (a refusal, a bad key, bad JSON, the store away).
 */
export function notificationEdge(deps: Pick<ApiDeps, 'accounts' | 'keys' | 'onAccepted'>): (req: IncomingMessage, res: ServerResponse, handOn: HandOn) => boolean {
  const intake = new NotificationIntake(deps.accounts);

  async function accept(req: IncomingMessage, res: ServerResponse, who: KeyIdentity, body: string): Promise<void> {
    let parsed: unknown = {};
    if (body.length > 0) {
      if (!STRICT_JSON.test(body)) throw invalidJson();
      try {
        parsed = JSON.parse(body);
      } catch {
        throw invalidJson();
      }
    }
    const result = await intake.acceptCall(who, parsed, req.headers['idempotency-key'], deps.onAccepted);
    const answer = JSON.stringify(acceptedBody(result));
    const headers = [...TYPE, 'content-length', String(Buffer.byteLength(answer)), ...(result.replayed ? REPLAYED : [])];
    res.writeHead(202, headers).end(answer);
  }

  return (req, res, handOn) => {
    if (req.method !== 'POST' || req.url !== PATH || req.headers.authorization === undefined) return false;
    const type = req.headers['content-type'];
    const length = req.headers['content-length'];
    if (type === undefined || !JSON_TYPE.test(type) || !plainUtf8(req) || length === undefined || Number(length) > BODY_LIMIT_BYTES) return false;
    // the key is checked before the body is read, as the express route's key check does
    const who = bearerIdentity(deps.keys, req.headers.authorization);
    if (who instanceof Error) {
      handOn(req, res, who);
      return true;
    }
    readUtf8(req, BODY_LIMIT_BYTES, (err, body) => {
      if (err !== undefined) return handOn(req, res, err);
      accept(req, res, who, body!).catch((failure: unknown) => handOn(req, res, failure));
    });
    return true;
  };
}
