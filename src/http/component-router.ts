import express, { Router, type Request, type Response } from 'express';
import type { Logger } from '../log/logger';
import { WechatApiError, WechatTransportError } from '../wechat/api-errors';
import { CipherError } from '../wechat/cipher';
import { AuthorizationEventError, parseAuthorizationEvent } from '../wechat/component/authorization-events';
import { AuthorizationCodeError } from '../wechat/component/authorizers';
import { LockBusyError } from '../wechat/component/kv-lock';
import { checkedNext, PlatformRequestError, type Platform } from '../wechat/component/platform';
import { TicketWaitError } from '../wechat/component/verify-tickets';
import { EnvelopeError, openSealed } from '../wechat/envelope';
import { NO_REPLY } from '../wechat/replies';
import { TokenFetchError } from '../wechat/shared-token';
import { signatureMatches } from '../wechat/signature';
import { parseXml, XmlError } from '../wechat/xml';
import { BODY_LIMIT_BYTES } from './body-limit';
import { HttpError } from './errors';

export interface ComponentEdgeDeps {
  log: Logger;
  /** Pushes whose timestamp is further than this from now are refused (replays). */
  skewSeconds: number;
  now?: () => number;
}

const answer = (res: Response, status: number, text: string) => res.status(status).type('text/plain').send(text);

/**
 * The platform's edge, mounted at /wechat/component:
 * - POST / is the authorisation-event URL of the open platform console: verify msg_signature
 *   with the component token, decrypt with the component key (the trailer must be the component
 *   appid), hand the event to the platform and answer `success` at once (tickets, authorisations
 *   and revocations; unknown kinds are logged).
 * - GET /callback is where WeChat sends the merchant's browser after consent (`auth_code`): the
 *   authorisation completes as with the `authorized` push, then the browser goes on to `next`.
 */
export function componentEdgeRouter(platform: Platform, deps: ComponentEdgeDeps): Router {
  const now = deps.now ?? Date.now;
  const router = Router();
  const { token, cipher } = platform.pushCredentials;

  /** Not provably from WeChat: logged, since it may be an attack. */
  function refuse(res: Response, why: string) {
    deps.log.warn('platform push rejected', { reason: why });
    return answer(res, 401, why);
  }

  /** timestamp and nonce as strings, with a fresh timestamp; the reason when not. */
  function freshParams(req: Request): { timestamp: string; nonce: string } | { status: number; why: string } {
    const { timestamp, nonce } = req.query;
    if (typeof timestamp !== 'string' || typeof nonce !== 'string' || !/^\d{1,12}$/.test(timestamp)) {
      return { status: 401, why: 'missing signature parameters' };
    }
    if (Math.abs(now() / 1000 - Number(timestamp)) > deps.skewSeconds) return { status: 403, why: 'stale timestamp' };
    return { timestamp, nonce };
  }

  // No verification step is documented for platform URLs; echoing a signed echostr as an account's URL does is harmless.
  router.get('/', (req, res) => {
    const params = freshParams(req);
    if ('why' in params) return answer(res, params.status, params.why);
    if (!signatureMatches(req.query.signature, [token, params.timestamp, params.nonce])) return answer(res, 401, 'bad signature');
    if (typeof req.query.echostr !== 'string') return answer(res, 400, 'missing echostr');
    answer(res, 200, req.query.echostr);
  });

  router.post('/', express.text({ type: () => true, limit: BODY_LIMIT_BYTES }), async (req, res) => {
    const params = freshParams(req);
    if ('why' in params) return answer(res, params.status, params.why);
    if (typeof req.body !== 'string' || req.body.length === 0) return answer(res, 400, 'empty body');
    let event;
    try {
      const outer = await parseXml(req.body);
      // Safe mode only: the doc has the platform verify msg_signature over the ciphertext.
      if (!outer.Encrypt) return refuse(res, 'no Encrypt element');
      const plain = openSealed(cipher, token, outer.Encrypt, params.timestamp, params.nonce, req.query.msg_signature);
      event = parseAuthorizationEvent(await parseXml(plain), platform.appId);
    } catch (err) {
      if (err instanceof EnvelopeError || err instanceof CipherError) return refuse(res, err.message);
      if (err instanceof XmlError || err instanceof AuthorizationEventError) return answer(res, 400, err.message);
      throw err;
    }
    await platform.receive(event);
    answer(res, 200, NO_REPLY);
  });

  router.get('/callback', async (req, res) => {
    const { auth_code: code, next } = req.query;
    let target: URL;
    try {
      target = checkedNext(next);
    } catch (err) {
      return answer(res, 400, (err as Error).message);
    }
    if (typeof code !== 'string' || code === '') return answer(res, 400, 'missing auth_code: open this page through the authorisation link');
    let appid: string;
    try {
      appid = await platform.completeAuthorization(code);
    } catch (err) {
      if (err instanceof AuthorizationCodeError) return answer(res, 400, err.message);
      if (err instanceof WechatApiError || err instanceof WechatTransportError || err instanceof LockBusyError) {
        deps.log.warn('authorisation callback failed', { err });
        // The code stays valid for 10 minutes: reloading this page tries again.
        return answer(res, 502, 'the authorisation could not be completed with WeChat just now; reload this page to try again');
      }
      throw err;
    }
    target.searchParams.set('authorizer_appid', appid);
    res.redirect(302, target.toString());
  });

  return router;
}

/** A platform failure in the API's error shape. */
function apiError(err: unknown): unknown {
  if (err instanceof PlatformRequestError) {
    return err.code === 'invalid_next'
      ? new HttpError(400, 'invalid_request', err.message, [{ field: 'next', message: err.message }])
      : new HttpError(409, 'not_configured', err.message);
  }
  if (err instanceof TicketWaitError) return new HttpError(503, 'no_verify_ticket', err.message);
  if (err instanceof LockBusyError) return new HttpError(409, 'busy', err.message);
  if (err instanceof TokenFetchError) return new HttpError(502, 'wechat_refused', err.message, { errcode: err.errcode, ...(err.fix ? { fix: err.fix } : {}) });
  if (err instanceof WechatApiError) return new HttpError(502, 'wechat_refused', err.message, { errcode: err.errcode });
  if (err instanceof WechatTransportError) return new HttpError(502, 'wechat_unreachable', err.message);
  return err;
}

/**
 * The platform's part of the business API, to mount under /v1 behind the API-key check:
 * GET /component/authorize-url?next=… → { url }, POST /component/recover → the recovery summary.
 */
export function componentApiRouter(platform: Platform): Router {
  const router = Router();

  router.get('/component/authorize-url', async (req, res) => {
    try {
      res.json({ url: await platform.authorizeUrl(typeof req.query.next === 'string' ? req.query.next : '') });
    } catch (err) {
      throw apiError(err);
    }
  });

  router.post('/component/recover', async (_req, res) => {
    try {
      res.json(await platform.recover());
    } catch (err) {
      throw apiError(err);
    }
  });

  return router;
}
