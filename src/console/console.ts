import { Router, type RequestHandler } from 'express';
import type { ApiKeySet } from '../http/auth';
import type { KeyValueStore } from '../store/store';
import { loadConsoleAssets } from './assets';
import { chooseLanguage } from './language';
import { consolePage } from './page';
import { consoleSessionAuth } from './session-auth';
import { sessionRouter } from './session-router';
import { ConsoleSessions } from './sessions';

export interface ConsoleDeps {
  /** Where sessions live: the deployment's key-values, shared by every instance. */
  kv: KeyValueStore;
  /** The API's keys and operator keys: the console signs in with them. */
  keys: ApiKeySet;
}

export interface Console {
  /** GET /console (the page), /console/assets/…, /console/session: mount at /console. */
  router: Router;
  /** The /v1 API's session-cookie check, run before its key check. */
  auth: RequestHandler;
}

/** Assets are named by their content's digest: a browser keeps them until a new version names new ones. */
const ASSET_CACHE = 'public, max-age=31536000, immutable';

/** The operator console: a single page that reads the /v1 API with a session cookie. */
export function createConsole(deps: ConsoleDeps): Console {
  const assets = loadConsoleAssets();
  const page = consolePage(assets);
  // A session lasts only while its key is still configured (with no keys, the API is open: client 'open').
  const sessions = new ConsoleSessions(deps.kv, (identity) => deps.keys.has(identity.client));

  const router = Router();
  router.get('/', (req, res) => {
    res
      .set({
        'Content-Security-Policy': page.csp,
        'Cache-Control': 'no-cache',
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        Vary: 'Accept-Language',
      })
      .type('html')
      .send(page.html(chooseLanguage(req.query.lang, req.get('accept-language'))));
  });
  router.get('/assets/:version/*file', (req, res, next) => {
    const asset = req.params.version === assets.version ? assets.files.get((req.params.file as unknown as string[]).join('/')) : undefined;
    if (!asset) return next();
    res.set({ 'Content-Type': asset.type, 'Cache-Control': ASSET_CACHE, 'X-Content-Type-Options': 'nosniff' }).send(asset.body);
  });
  router.use(sessionRouter(sessions, deps.keys));
  return { router, auth: consoleSessionAuth(sessions) };
}
