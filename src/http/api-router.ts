import express, { Router, type RequestHandler } from 'express';
import type { Logger } from '../log/logger';
import { renderedTemplate } from '../delivery/template-display';
import { bearerAuth, keyAccounts, type ApiKeySet } from './auth';
import { LAST_PUSH_KEY } from './callback-stats';
import { batchRoute } from './batch-route';
import { BODY_LIMIT_BYTES } from './body-limit';
import { HttpError } from './errors';
import { acceptedBody, NotificationIntake, requesterOf, type IntakeAccounts } from './notification-intake';
import { notificationSearchRouter } from './notification-search';
import { notificationView } from './notification-view';
import { visibleNotification } from './visible-notification';

/** The accounts as the API needs them (src/delivery/accounts.ts). */
export type ApiAccounts = IntakeAccounts;

export interface ApiDeps {
  accounts: ApiAccounts;
  /** The account a notification id belongs to, or null when it is not such an id. */
  accountOfId(id: string): string | null;
  /** The API keys and operator keys (see bearerAuth). */
  keys: ApiKeySet;
  /** Called after a notification is accepted, so the work loop picks it up at once. */
  onAccepted?: () => void;
  /** More routes under /v1, behind the same key check (the third-party platform's, the webhooks'). */
  more?: ReadonlyArray<Router | undefined>;
  /** The console's session-cookie check: runs first; a request it lets in skips the key check. */
  consoleAuth?: RequestHandler;
  log: Logger;
}

/** The business API under /v1. */
export function apiRouter(deps: ApiDeps): Router {
  const router = Router();
  const intake = new NotificationIntake(deps.accounts);
  // The console's signed-in browsers use a session cookie instead of a Bearer key.
  const keyCheck = bearerAuth(deps.keys);
  if (deps.consoleAuth) router.use(deps.consoleAuth);
  router.use((req, res, next) => (res.locals.consoleSession === true ? next() : keyCheck(req, res, next)));
  // before the JSON parser below: the batch route reads its larger body itself
  router.use(batchRoute(intake, () => deps.onAccepted?.(), deps.log));
  router.use(express.json({ limit: BODY_LIMIT_BYTES, strict: true }));

  router.post('/notifications', async (req, res) => {
    if (!req.is('application/json')) throw new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
    const result = await intake.acceptCall(requesterOf(res), req.body, req.get('idempotency-key'), deps.onAccepted);
    if (result.replayed) res.set('Idempotent-Replayed', 'true');
    res.status(202).json(acceptedBody(result));
  });

  router.get('/notifications/:id', async (req, res) => {
    const found = await visibleNotification(deps, req.params.id, res);
    if (!found) throw new HttpError(404, 'not_found', `no notification ${req.params.id}`);
    res.json(notificationView(found.n, await renderedTemplate(found.n, found.delivery.templates)));
  });

  router.use(notificationSearchRouter(deps.accounts, intake));

  router.get('/templates', async (req, res) => {
    const named = typeof req.query.account === 'string' ? req.query.account : undefined;
    const appid = await intake.chosenAccount(requesterOf(res), named);
    if ((await deps.accounts.state(appid)) === 'unknown') throw new HttpError(404, 'not_found', `no account ${appid}`);
    res.json({ account: appid, templates: await deps.accounts.runtime(appid).delivery.templates.overview() });
  });

  router.get('/accounts', async (_req, res) => {
    const limited = keyAccounts(res);
    const appids = limited ?? (await deps.accounts.activeAppids());
    const accounts = await Promise.all(appids.map((appid) => accountView(deps.accounts, appid)));
    res.json({ accounts });
  });

  for (const more of deps.more ?? []) if (more) router.use(more);
  return router;
}

/** One account as GET /v1/accounts shows it: may it send, is its token refused, which templates work, is the quota spent. */
async function accountView(accounts: ApiAccounts, appid: string): Promise<Record<string, unknown>> {
  const state = await accounts.state(appid);
  if (state === 'unknown') return { appid, state };
  const { kind, tokens, delivery, store } = accounts.runtime(appid);
  // the push, token and quota health is for the console: shared through the store, so every instance shows the same
  const [templates, pausedUntil, lastPushAt, token, quota] = await Promise.all([
    delivery.templates.health(),
    delivery.quota.pausedUntil(),
    store.getValue(LAST_PUSH_KEY),
    tokens.health(),
    delivery.quota.checked(),
  ]);
  const refused = tokens.lastError;
  return {
    appid,
    kind,
    state,
    token: refused ? { ok: false, errcode: refused.errcode ?? null, problem: refused.fix ?? refused.message } : { ok: true },
    templates: {
      valid: templates.filter((t) => t.valid).map((t) => t.name),
      invalid: templates.filter((t) => !t.valid).map((t) => ({ name: t.name, reason: t.reason })),
    },
    templateQuota: pausedUntil ? { paused: true, until: new Date(pausedUntil).toISOString() } : { paused: false },
    lastPushAt,
    tokenRefreshes24h: token.refreshes24h,
    tokenRefusal: token.refusal,
    quota,
    quotaPausedUntil: pausedUntil ? new Date(pausedUntil).toISOString() : null,
  };
}
