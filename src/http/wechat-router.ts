import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { parse as parseQuery, type ParsedUrlQuery } from 'node:querystring';
import express, { type Request, type Response } from 'express';
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
import type { PushSeen } from './callback-stats';
import { plainUtf8, readUtf8 } from './utf8-body';
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

/** Where the edge's answers to pushes are counted and timed (the callback statistics). */
interface PushAnswers {
  answered(ms: number, seen: PushSeen | undefined): void;
}

interface EdgeOptions {
  answers?: PushAnswers;
  /** /wechat/component is the third-party platform's (served elsewhere), not an appid's. */
  componentElsewhere?: boolean;
}

/**
 * What the edge does not answer itself goes on to the rest of the app: with an error, the app's
 * error handler answers it (a body too large, a store that is away, a bug), as for any route.
 */
export type HandOn = (req: IncomingMessage, res: ServerResponse, err: unknown) => void;

/** Takes the request when it is for the edge (true), or leaves it to the app (false; also a body too large by its Content-Length). */
type EdgeListener = (req: IncomingMessage, res: ServerResponse, handOn: HandOn) => boolean;

type ContentType = 'text/plain' | 'application/xml';

/**
 * Every answer of the edge: written at once, headers as a flat list (WeChat never sends a
 * conditional request, so no ETag or freshness check either).
 */
function answer(res: ServerResponse, status: number, type: ContentType, body: string): void {
  res.writeHead(status, ['content-type', `${type}; charset=utf-8`, 'content-length', String(Buffer.byteLength(body))]).end(body);
}

/** The answer to almost every push, its headers made once. */
const NO_REPLY_HEADERS = ['content-type', 'text/plain; charset=utf-8', 'content-length', String(Buffer.byteLength(NO_REPLY))];

const reject = (res: ServerResponse, status: number, why: string) => answer(res, status, 'text/plain', why);

/** A push's answer: its passive reply (sealed in safe mode: docs/wechat-protocol-notes.md "Passive replies"), or none. */
function answerReply(res: ServerResponse, xml: string | undefined, sealed: Parameters<typeof replyBody>[1]): void {
  if (xml === undefined) res.writeHead(200, NO_REPLY_HEADERS).end(NO_REPLY);
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

const PREFIX = '/wechat';

/**
 * The appid of an edge path: null for /wechat itself, the segment of /wechat/<segment>, or
 * undefined for any other path. Matched as express matched the edge's routes: case-insensitively,
 * with or without a trailing slash.
 */
function edgePath(path: string, componentElsewhere: boolean): string | null | undefined {
  if (path.slice(0, PREFIX.length).toLowerCase() !== PREFIX) return undefined;
  const rest = path.slice(PREFIX.length);
  if (rest === '' || rest === '/') return null;
  if (!rest.startsWith('/')) return undefined;
  const segment = rest.slice(1, rest.endsWith('/') ? -1 : undefined);
  if (segment === '' || segment.includes('/')) return undefined;
  if (componentElsewhere && segment.toLowerCase() === 'component') return undefined;
  return segment.includes('%') ? decoded(segment) : segment;
}

/** A path segment percent-decoded, as express gave it to a route (or as it came when it does not decode). */
function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * The protocol edge at /wechat (the single account) and /wechat/<appid> (any account, a
 * third-party platform's merchants included), kept small (node-webot style): verify, decrypt,
 * parse, hand the push to its account's delivery, answer within WeChat's 5 s with `success` or
 * the passive reply. The appid comes from the path only, and travels with the push from here.
 * It answers on node:http directly, ahead of express (a receipt is the service's hot path: no
 * router, middleware chain or body parser per push), with the answers the express routes gave.
 */
export function wechatEdge(deps: WechatEdgeDeps, options: EdgeOptions = {}): EdgeListener {
  const now = deps.now ?? Date.now;
  const { answers, componentElsewhere = false } = options;
  const parseText = express.text({ type: () => true, limit: BODY_LIMIT_BYTES });

  /** Not provably from WeChat: logged, since it may be an attack. */
  function refuse(res: ServerResponse, why: string, appid: string) {
    deps.log.warn('push rejected', { reason: why, account: appid });
    return reject(res, 401, why);
  }

  /** The account of the path, or a 404 answered. */
  async function accountOf(segment: string | null, res: ServerResponse): Promise<EdgeAccount | null> {
    const account = segment === null || APPID.test(segment) ? await deps.account(segment) : null;
    if (!account) {
      reject(res, 404, segment === null ? 'no single account here: use /wechat/<appid>' : `no account ${segment} here (not configured or not authorised)`);
    }
    return account;
  }

  /** The signature over [token, timestamp, nonce] and a fresh timestamp; returns the reason when not. */
  function authenticate(query: ParsedUrlQuery, token: string): Authenticated | { status: number; why: string } {
    const { signature, timestamp, nonce } = query;
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

  /** GET: WeChat's check of the URL (echostr). */
  async function verify(res: ServerResponse, segment: string | null, query: ParsedUrlQuery): Promise<void> {
    const account = await accountOf(segment, res);
    if (!account) return;
    const auth = authenticate(query, account.push.token);
    if ('why' in auth) return reject(res, auth.status, auth.why);
    const { echostr } = query;
    if (typeof echostr !== 'string') return reject(res, 400, 'missing echostr');
    // A verification URL must not lend its signature to a plaintext push.
    if (plaintextAccepted(account.push) && !(await onlyFor(account, auth, `GET ${echostr}`)).allowed) return reject(res, 401, 'signature already used');
    answer(res, 200, 'text/plain', echostr);
  }

  /** POST: a push. `seen` is set once it is authenticated and parsed (for the callback statistics). */
  async function push(res: ServerResponse, segment: string | null, query: ParsedUrlQuery, body: unknown, seen: { push?: PushSeen }): Promise<void> {
    const receivedAt = now();
    const account = await accountOf(segment, res);
    if (!account) return;
    const { appid, push: credentials } = account;
    const auth = authenticate(query, credentials.token);
    if ('why' in auth) return reject(res, auth.status, auth.why);
    const encrypted = query.encrypt_type === 'aes';
    if (encrypted && !credentials.cipher) return reject(res, 400, 'encrypted push but no AES key configured for this account');
    if (!encrypted && !plaintextAccepted(credentials)) return refuse(res, 'plaintext push, but an AES key is configured', appid);
    if (typeof body !== 'string' || body.length === 0) return reject(res, 400, 'empty body');
    const signature = encrypted ? { allowed: true, storeAway: account.unconfirmed === true } : await onlyFor(account, auth, body);
    if (!signature.allowed) return refuse(res, 'signature already used with another body', appid);

    let push: Push;
    let plainXml: string = body;
    try {
      let fields = await parseXml(plainXml);
      if (encrypted) {
        if (!fields.Encrypt) return refuse(res, 'no Encrypt element', appid);
        plainXml = openSealed(credentials.cipher as WechatCipher, credentials.token, fields.Encrypt, auth.timestamp, auth.nonce, query.msg_signature);
        fields = await parseXml(plainXml);
      }
      push = parsePush(fields);
    } catch (err) {
      if (err instanceof EnvelopeError || err instanceof CipherError) return refuse(res, err.message, appid);
      if (err instanceof XmlError || err instanceof PushError) return reject(res, 400, err.message);
      throw err;
    }

    seen.push = { appid, push };
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
  }

  /** Reads the body, then handles the push; every POST answered (or handed on) is timed. */
  function takePush(req: IncomingMessage, res: ServerResponse, segment: string | null, query: ParsedUrlQuery, handOn: HandOn): void {
    const started = performance.now();
    const seen: { push?: PushSeen } = {};
    const fail = (err: unknown) => {
      if (answers) res.once('finish', () => answers.answered(performance.now() - started, seen.push));
      handOn(req, res, err);
    };
    const handle = (err: unknown, body?: unknown) => {
      if (err !== undefined) return fail(err);
      push(res, segment, query, body, seen).then(() => answers?.answered(performance.now() - started, seen.push), fail);
    };
    // WeChat posts UTF-8 XML as it is; any other body (compressed, another charset) goes through express's text parser
    if (plainUtf8(req)) readUtf8(req, BODY_LIMIT_BYTES, handle);
    else parseText(req as Request, res as Response, (err: unknown) => handle(err, (req as Request).body));
  }

  return (req, res, handOn) => {
    const { method } = req;
    if (method !== 'POST' && method !== 'GET' && method !== 'HEAD') return false;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const segment = edgePath(q < 0 ? url : url.slice(0, q), componentElsewhere);
    // a Content-Length over the limit is the app's to refuse (refuseLargeBodies), before any of the body is read
    if (segment === undefined || Number(req.headers['content-length'] ?? 0) > BODY_LIMIT_BYTES) return false;
    const query = parseQuery(q < 0 ? '' : url.slice(q + 1));
    if (method === 'POST') takePush(req, res, segment, query, handOn);
    else verify(res, segment, query).catch((err: unknown) => handOn(req, res, err));
    return true;
  };
}
