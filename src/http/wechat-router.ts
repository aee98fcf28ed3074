import express, { Router, type Request, type Response } from 'express';
import { PushBusyError, type PushOutcome } from '../delivery/push-intake';
import type { PushCredentials } from '../delivery/accounts';
import type { JournaledPushes } from '../delivery/push-journal';
import { MemoryStore } from '../store/memory-store';
import { StoreUnavailableError } from '../store/unavailable';
import type { Logger } from '../log/logger';
import { CipherError, type WechatCipher } from '../wechat/cipher';
import { EnvelopeError, openSealed } from '../wechat/envelope';
import type { PushForwarder } from '../wechat/forwarder';
import { parsePush, PushError, type Push } from '../wechat/push';
import { signatureMatches, signatureOnlyFor, type SignatureMemory } from '../wechat/signature';
import { NO_REPLY, replyBody, textReply } from '../wechat/replies';
import { BODY_LIMIT_BYTES } from './body-limit';
import { parseXml, XmlError } from '../wechat/xml';

/** An account as the edge sees it: how its pushes are checked and opened. */
export interface EdgeAccount {
  appid: string;
  push: PushCredentials;
  /** Where signatures of plaintext requests are remembered (shared by all instances). */
  signatures: SignatureMemory;
  /** Passes user pushes on to the business's own server (`forward.url`), when this account's are forwarded. */
  forwarder?: PushForwarder;
  /**
   * The store could not say whether this merchant is authorised (it was unreachable): the push is
   * checked with the platform's credentials and kept in the push journal, as when the store is away.
   */
  unconfirmed?: boolean;
}

/** What an edge answers a push for instead of delivery (WeChat's release test of a third-party platform). */
export interface PushInterceptor {
  /** null: not for it; otherwise the passive reply's plaintext XML ('' answers with no reply). */
  handle(appid: string, push: Push, plainXml: string): Promise<string | null>;
}

export interface WechatEdgeDeps {
  /**
   * The account that receives pushes at `/wechat/<appid>` (or `/wechat` when `appid` is null), or
   * null when there is none (404: the appid is not configured or not authorised).
   */
  account(appid: string | null): Promise<EdgeAccount | null>;
  skewSeconds: number;
  handler: Pick<JournaledPushes, 'handle'>;
  interceptor?: PushInterceptor;
  log: Logger;
  /** Work became due now (a failed receipt, a user came back): wake the work loop. */
  onWorkDue?: () => void;
  now?: () => number;
}

/**
 * Every answer of the edge: written at once, without express's ETag and freshness checks (WeChat
 * never sends a conditional request, and the ETag is a hash of every body).
 */
function answer(res: Response, status: number, type: 'text/plain' | 'application/xml', body: string): void {
  res.writeHead(status, { 'content-type': `${type}; charset=utf-8`, 'content-length': Buffer.byteLength(body) }).end(body);
}

const reject = (res: Response, status: number, why: string) => answer(res, status, 'text/plain', why);

/** A push's answer: its passive reply (sealed in safe mode: docs/wechat-protocol-notes.md "Passive replies"), or none. */
function answerReply(res: Response, xml: string | undefined, sealed: Parameters<typeof replyBody>[1]): void {
  if (xml === undefined) answer(res, 200, 'text/plain', NO_REPLY);
  else answer(res, 200, 'application/xml', replyBody(xml, sealed));
}

interface Authenticated {
  /** The verified `signature`, lower-case. */
  signature: string;
  timestamp: string;
  nonce: string;
}

/** Path appids: what WeChat puts in a message URL with `$APPID$`. */
const APPID = /^wx[0-9a-zA-Z]{6,32}$/;

/** Only a valid msg_signature covers the body; without an AES key there is none to check. */
const plaintextAccepted = (push: PushCredentials) => push.cipher === null || push.acceptPlaintext;

/**
 * The protocol edge at /wechat (the single account) and /wechat/<appid> (any account, a
 * third-party platform's merchants included), kept small (node-webot style): verify, decrypt,
 * parse, hand the push to its account's delivery, answer within WeChat's 5 s with `success` or
 * the passive reply. The appid comes from the path only, and travels with the push from here.
 */
export function wechatRouter(deps: WechatEdgeDeps): Router {
  const now = deps.now ?? Date.now;
  const router = Router();

  /** Not provably from WeChat: logged, since it may be an attack. */
  function refuse(res: Response, why: string, appid: string) {
    deps.log.warn('push rejected', { reason: why, account: appid });
    return reject(res, 401, why);
  }

  /** The account of the path, or a 404 answered. */
  async function accountOf(req: Request, res: Response): Promise<EdgeAccount | null> {
    const appid = typeof req.params.appid === 'string' ? req.params.appid : null;
    const account = appid === null || APPID.test(appid) ? await deps.account(appid) : null;
    if (!account) {
      reject(res, 404, appid === null ? 'no single account here: use /wechat/<appid>' : `no account ${appid} here (not configured or not authorised)`);
    }
    return account;
  }

  /** The signature over [token, timestamp, nonce] and a fresh timestamp; returns the reason when not. */
  function authenticate(req: Request, token: string): Authenticated | { status: number; why: string } {
    const { signature, timestamp, nonce } = req.query;
    if (typeof timestamp !== 'string' || typeof nonce !== 'string' || !/^\d{1,12}$/.test(timestamp)) {
      return { status: 401, why: 'missing signature parameters' };
    }
    if (!signatureMatches(signature, [token, timestamp, nonce])) return { status: 401, why: 'bad signature' };
    if (Math.abs(now() / 1000 - Number(timestamp)) > deps.skewSeconds) return { status: 403, why: 'stale timestamp' };
    return { signature: (signature as string).toLowerCase(), timestamp, nonce };
  }

  /** Signatures seen while the shared store is unreachable, so pushes still get through to the push journal. */
  const localSignatures = new MemoryStore({ now }).deployment;

  /**
   * `allowed` false when the signature already came with other content (kept while its timestamp
   * is accepted); `storeAway` when the shared store did not answer (this instance remembered it).
   */
  async function onlyFor(account: EdgeAccount, auth: Authenticated, content: string): Promise<{ allowed: boolean; storeAway: boolean }> {
    const validFor = Number(auth.timestamp) + deps.skewSeconds - Math.floor(now() / 1000) + 1;
    try {
      return { allowed: await signatureOnlyFor(account.signatures, auth.signature, content, validFor), storeAway: false };
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      return { allowed: await signatureOnlyFor(localSignatures, auth.signature, content, validFor), storeAway: true };
    }
  }

  router.get(['/', '/:appid'], async (req, res) => {
    const account = await accountOf(req, res);
    if (!account) return;
    const auth = authenticate(req, account.push.token);
    if ('why' in auth) return reject(res, auth.status, auth.why);
    const { echostr } = req.query;
    if (typeof echostr !== 'string') return reject(res, 400, 'missing echostr');
    // A verification URL must not lend its signature to a plaintext push.
    if (plaintextAccepted(account.push) && !(await onlyFor(account, auth, `GET ${echostr}`)).allowed) return reject(res, 401, 'signature already used');
    answer(res, 200, 'text/plain', echostr);
  });

  router.post(['/', '/:appid'], express.text({ type: () => true, limit: BODY_LIMIT_BYTES }), async (req, res) => {
    const receivedAt = now();
    const account = await accountOf(req, res);
    if (!account) return;
    const { appid, push: credentials } = account;
    const auth = authenticate(req, credentials.token);
    if ('why' in auth) return reject(res, auth.status, auth.why);
    const encrypted = req.query.encrypt_type === 'aes';
    if (encrypted && !credentials.cipher) return reject(res, 400, 'encrypted push but no AES key configured for this account');
    if (!encrypted && !plaintextAccepted(credentials)) return refuse(res, 'plaintext push, but an AES key is configured', appid);
    if (typeof req.body !== 'string' || req.body.length === 0) return reject(res, 400, 'empty body');
    const signature = encrypted ? { allowed: true, storeAway: account.unconfirmed === true } : await onlyFor(account, auth, req.body);
    if (!signature.allowed) return refuse(res, 'signature already used with another body', appid);

    let push: Push;
    let plainXml: string = req.body;
    try {
      let fields = await parseXml(plainXml);
      if (encrypted) {
        if (!fields.Encrypt) return refuse(res, 'no Encrypt element', appid);
        plainXml = openSealed(credentials.cipher as WechatCipher, credentials.token, fields.Encrypt, auth.timestamp, auth.nonce, req.query.msg_signature);
        fields = await parseXml(plainXml);
      }
      push = parsePush(fields);
    } catch (err) {
      if (err instanceof EnvelopeError || err instanceof CipherError) return refuse(res, err.message, appid);
      if (err instanceof XmlError || err instanceof PushError) return reject(res, 400, err.message);
      throw err;
    }

    res.locals.pushSeen = { appid, push }; // for the callback statistics (src/http/callback-stats.ts)
    const sealed = encrypted ? { cipher: credentials.cipher as WechatCipher, token: credentials.token, timestamp: auth.timestamp } : undefined;
    const intercepted = (await deps.interceptor?.handle(appid, push, plainXml)) ?? null;
    if (intercepted !== null) return answerReply(res, intercepted === '' ? undefined : intercepted, sealed);

    const { forwarder } = account;
    const forward = forwarder ? () => forwarder.forward(plainXml, push.openid, now()) : undefined;
    let outcome: PushOutcome;
    try {
      outcome = await deps.handler.handle(appid, push, forward, receivedAt, signature.storeAway || account.unconfirmed === true);
    } catch (err) {
      // Another request is still on this push: no answer yet, so WeChat sends it again.
      if (err instanceof PushBusyError) return reject(res, 503, err.message);
      throw err;
    }
    if (outcome.workDue) deps.onWorkDue?.();
    const xml =
      outcome.downstreamReply ??
      (outcome.reply === undefined
        ? undefined
        : textReply(push, outcome.reply, now()));
    answerReply(res, xml, sealed);
  });

  return router;
}
