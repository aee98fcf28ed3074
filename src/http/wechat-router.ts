import express, { Router, type Request, type Response } from 'express';
import { PushBusyError, type PushOutcome } from '../delivery/push-intake';
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

export interface WechatEdgeDeps {
  token: string;
  cipher: WechatCipher | null;
  /** With an AES key, also accept plaintext pushes (a migration aid while switching to compatible mode). */
  acceptPlaintext: boolean;
  /** Where signatures of plaintext requests are remembered (shared by all instances). */
  signatures: SignatureMemory;
  skewSeconds: number;
  handler: Pick<JournaledPushes, 'handle'>;
  log: Logger;
  /** Work became due now (a failed receipt, a user came back): wake the work loop. */
  onWorkDue?: () => void;
  /** Passes user pushes on to the business's own server (`forward.url`). */
  forwarder?: PushForwarder;
  now?: () => number;
}

const reject = (res: Response, status: number, why: string) => res.status(status).type('text/plain').send(why);

interface Authenticated {
  /** The verified `signature`, lower-case. */
  signature: string;
  timestamp: string;
  nonce: string;
}

/**
 * The protocol edge at /wechat, kept small (node-webot style): verify, decrypt, parse, hand the
 * push to delivery, answer within WeChat's 5 s with `success` or the passive reply.
 */
export function wechatRouter(deps: WechatEdgeDeps): Router {
  const now = deps.now ?? Date.now;
  const router = Router();

  /** Not provably from WeChat: logged, since it may be an attack. */
  function refuse(res: Response, why: string) {
    deps.log.warn('push rejected', { reason: why });
    return reject(res, 401, why);
  }

  /** Only a valid msg_signature covers the body; without an AES key there is none to check. */
  const plaintextAccepted = deps.cipher === null || deps.acceptPlaintext;

  /** The signature over [token, timestamp, nonce] and a fresh timestamp; returns the reason when not. */
  function authenticate(req: Request): Authenticated | { status: number; why: string } {
    const { signature, timestamp, nonce } = req.query;
    if (typeof timestamp !== 'string' || typeof nonce !== 'string' || !/^\d{1,12}$/.test(timestamp)) {
      return { status: 401, why: 'missing signature parameters' };
    }
    if (!signatureMatches(signature, [deps.token, timestamp, nonce])) return { status: 401, why: 'bad signature' };
    if (Math.abs(now() / 1000 - Number(timestamp)) > deps.skewSeconds) return { status: 403, why: 'stale timestamp' };
    return { signature: (signature as string).toLowerCase(), timestamp, nonce };
  }

  /** Signatures seen while the shared store is unreachable, so pushes still get through to the push journal. */
  const localSignatures = new MemoryStore({ now });

  /**
   * `allowed` false when the signature already came with other content (kept while its timestamp
   * is accepted); `storeAway` when the shared store did not answer (this instance remembered it).
   */
  async function onlyFor(auth: Authenticated, content: string): Promise<{ allowed: boolean; storeAway: boolean }> {
    const validFor = Number(auth.timestamp) + deps.skewSeconds - Math.floor(now() / 1000) + 1;
    try {
      return { allowed: await signatureOnlyFor(deps.signatures, auth.signature, content, validFor), storeAway: false };
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      return { allowed: await signatureOnlyFor(localSignatures, auth.signature, content, validFor), storeAway: true };
    }
  }

  router.get('/', async (req, res) => {
    const auth = authenticate(req);
    if ('why' in auth) return reject(res, auth.status, auth.why);
    const { echostr } = req.query;
    if (typeof echostr !== 'string') return reject(res, 400, 'missing echostr');
    // A verification URL must not lend its signature to a plaintext push.
    if (plaintextAccepted && !(await onlyFor(auth, `GET ${echostr}`)).allowed) return reject(res, 401, 'signature already used');
    res.type('text/plain').send(echostr);
  });

  router.post('/', express.text({ type: () => true, limit: BODY_LIMIT_BYTES }), async (req, res) => {
    const receivedAt = now();
    const auth = authenticate(req);
    if ('why' in auth) return reject(res, auth.status, auth.why);
    const encrypted = req.query.encrypt_type === 'aes';
    if (encrypted && !deps.cipher) return reject(res, 400, 'encrypted push but no WECHAT_AES_KEY configured');
    if (!encrypted && !plaintextAccepted) return refuse(res, 'plaintext push, but an AES key is configured');
    if (typeof req.body !== 'string' || req.body.length === 0) return reject(res, 400, 'empty body');
    const signature = encrypted ? { allowed: true, storeAway: false } : await onlyFor(auth, req.body);
    if (!signature.allowed) return refuse(res, 'signature already used with another body');

    let push: Push;
    let plainXml: string = req.body;
    try {
      let fields = await parseXml(plainXml);
      if (encrypted) {
        if (!fields.Encrypt) return refuse(res, 'no Encrypt element');
        plainXml = openSealed(deps.cipher as WechatCipher, deps.token, fields.Encrypt, auth.timestamp, auth.nonce, req.query.msg_signature);
        fields = await parseXml(plainXml);
      }
      push = parsePush(fields);
    } catch (err) {
      if (err instanceof EnvelopeError || err instanceof CipherError) return refuse(res, err.message);
      if (err instanceof XmlError || err instanceof PushError) return reject(res, 400, err.message);
      throw err;
    }

    const { forwarder } = deps;
    const forward = forwarder ? () => forwarder.forward(plainXml, push.openid, now()) : undefined;
    let outcome: PushOutcome;
    try {
      outcome = await deps.handler.handle(push, forward, receivedAt, signature.storeAway);
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
    if (xml === undefined) return res.type('text/plain').send(NO_REPLY);
    // Safe mode must answer sealed (docs/wechat-protocol-notes.md "Passive replies").
    const body = replyBody(xml, encrypted ? { cipher: deps.cipher as WechatCipher, token: deps.token, timestamp: auth.timestamp } : undefined);
    res.type('application/xml').send(body);
  });

  return router;
}
