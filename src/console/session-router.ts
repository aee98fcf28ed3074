import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { HttpError } from '../http/errors';
import { fieldErrors } from '../http/notification-schema';
import { readCookie, SESSION_COOKIE, writeSessionCookie } from './cookie';
import { SESSION_TTL_MS, sameToken, type ConsoleIdentity, type ConsoleSession, type ConsoleSessions } from './sessions';

const signIn = z.object({ apiKey: z.string().min(1).max(1000) }).strict();

/**
 * The identity `authenticate` (the API's key check) gives this key, or null when it refuses it.
 * The key is put where the check reads it, on this request only, and taken away again.
 */
function identify(authenticate: RequestHandler, key: string, req: Request, res: Response): Promise<ConsoleIdentity | null> {
  return new Promise<ConsoleIdentity | null>((resolve, reject) => {
    req.headers.authorization = `Bearer ${key}`;
    try {
      void authenticate(req, res, (err?: unknown) =>
        resolve(err ? null : { client: res.locals.client as string, accounts: res.locals.accounts as readonly string[] | null, operator: res.locals.operator === true }),
      );
    } catch (err) {
      reject(err);
    }
  }).finally(() => {
    delete req.headers.authorization;
  });
}

/**
 * POST /console/session { apiKey } signs in (204 and the session cookie; 401 and no cookie for a
 * key the API refuses); GET tells the browser its CSRF token and what it may see; DELETE signs
 * out. The key itself is checked and forgotten: only the session's identity is kept.
 */
export function sessionRouter(sessions: ConsoleSessions, authenticate: RequestHandler, stillAllowed: (identity: ConsoleIdentity) => boolean): Router {
  const router = Router();

  async function current(req: Request): Promise<{ id: string; session: ConsoleSession } | null> {
    const id = readCookie(req, SESSION_COOKIE);
    const session = id === null ? null : await sessions.get(id);
    return id !== null && session && stillAllowed(session) ? { id, session } : null;
  }

  router.post('/session', express.json({ limit: '4kb', strict: true }), async (req, res) => {
    if (!req.is('application/json')) throw new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
    const parsed = signIn.safeParse(req.body);
    if (!parsed.success) throw new HttpError(400, 'invalid_request', 'give { "apiKey": "<your API key>" }', fieldErrors(parsed.error));
    const identity = await identify(authenticate, parsed.data.apiKey, req, res);
    if (!identity) throw new HttpError(401, 'unauthorized', 'this API key is not accepted here');
    const { id } = await sessions.create(identity);
    writeSessionCookie(req, res, id, SESSION_TTL_MS / 1000);
    res.set('Cache-Control', 'no-store').status(204).end();
  });

  router.get('/session', async (req, res) => {
    const found = await current(req);
    if (!found) throw new HttpError(401, 'unauthorized', 'not signed in to the console');
    const { csrf, accounts, operator } = found.session;
    res.set('Cache-Control', 'no-store').json({ csrf, accounts, operator });
  });

  router.delete('/session', async (req, res) => {
    const found = await current(req);
    if (found) {
      if (!sameToken(req.get('x-csrf-token') ?? '', found.session.csrf)) throw new HttpError(403, 'csrf', 'signing out needs the x-csrf-token header from GET /console/session');
      await sessions.end(found.id);
    }
    writeSessionCookie(req, res, '', 0);
    res.status(204).end();
  });

  return router;
}
