import express, { Router } from 'express';
import { z } from 'zod';
import type { ApiKeySet } from '../http/auth';
import { HttpError } from '../http/errors';
import { fieldErrors } from '../http/notification-schema';
import { writeSessionCookie } from './cookie';
import { SESSION_TTL_MS, sameToken, type ConsoleSessions } from './sessions';

const signIn = z.object({ apiKey: z.string().min(1).max(1000) }).strict();

/**
 * POST /console/session { apiKey } signs in (204 and the session cookie; 401 and no cookie for a
 * key the API refuses); GET tells the browser its CSRF token and what it may see; DELETE signs
 * out. The key itself is checked and forgotten: only the session's identity is kept.
 */
export function sessionRouter(sessions: ConsoleSessions, keys: ApiKeySet): Router {
  const router = Router();

  router.post('/session', express.json({ limit: '4kb', strict: true }), async (req, res) => {
    if (!req.is('application/json')) throw new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
    const parsed = signIn.safeParse(req.body);
    if (!parsed.success) throw new HttpError(400, 'invalid_request', 'give { "apiKey": "<your API key>" }', fieldErrors(parsed.error));
    // space before the key is let through, as the API's "Authorization: Bearer <key>" header allows it
    const identity = keys.identify(parsed.data.apiKey.trimStart());
    if (!identity) throw new HttpError(401, 'unauthorized', 'this API key is not accepted here');
    const { id } = await sessions.create(identity);
    writeSessionCookie(req, res, id, SESSION_TTL_MS / 1000);
    res.set('Cache-Control', 'no-store').status(204).end();
  });

  router.get('/session', async (req, res) => {
    const found = await sessions.live(req);
    if (!found) throw new HttpError(401, 'unauthorized', 'not signed in to the console');
    const { csrf, accounts, operator } = found.session;
    res.set('Cache-Control', 'no-store').json({ csrf, accounts, operator });
  });

  router.delete('/session', async (req, res) => {
    const found = await sessions.live(req);
    if (found) {
      if (!sameToken(req.get('x-csrf-token') ?? '', found.session.csrf)) throw new HttpError(403, 'csrf', 'signing out needs the x-csrf-token header from GET /console/session');
      await sessions.end(found);
    }
    writeSessionCookie(req, res, '', 0);
    res.status(204).end();
  });

  return router;
}
