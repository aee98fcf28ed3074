import express, { Router, type Response } from 'express';
import type { AccountState } from '../delivery/account-state';
import type { Account } from '../delivery/accounts';
import { IdempotencyConflictError, UnknownTemplateError } from '../delivery/notifications';
import type { NotificationRequest } from '../delivery/notification';
import { bearerAuth } from './auth';
import { BODY_LIMIT_BYTES } from './body-limit';
import { HttpError } from './errors';
import { fieldErrors, notificationBody } from './notification-schema';
import { notificationView } from './notification-view';

export { notificationView };

/** The accounts as the API needs them (src/delivery/accounts.ts). */
export interface ApiAccounts {
  state(appid: string): Promise<AccountState>;
  runtime(appid: string): Account;
  activeAppids(): Promise<string[]>;
}

export interface ApiDeps {
  accounts: ApiAccounts;
  /** The account a notification id belongs to, or null when it is not such an id. */
  accountOfId(id: string): string | null;
  apiKeys: readonly string[];
  /** Called after a notification is accepted, so the work loop picks it up at once. */
  onAccepted?: () => void;
  /** More routes under /v1, behind the same key check (the third-party platform's, the webhooks'). */
  more?: ReadonlyArray<Router | undefined>;
}

/** The appids the request's key is limited to, or null (every account). */
const keyAccounts = (res: Response): readonly string[] | null => res.locals.accounts as readonly string[] | null;

/** The business API under /v1. */
export function apiRouter(deps: ApiDeps): Router {
  const router = Router();
  router.use(bearerAuth(deps.apiKeys));
  router.use(express.json({ limit: BODY_LIMIT_BYTES, strict: true }));

  /** The accounts the key may use that exist now. */
  async function visibleAccounts(res: Response): Promise<string[]> {
    const active = await deps.accounts.activeAppids();
    const limited = keyAccounts(res);
    return limited === null ? active : active.filter((a) => limited.includes(a));
  }

  /**
   * The account a request names (body `account` or query `?account=`), or the key's only account
   * when it names none; errors say what to send instead.
   */
  async function chosenAccount(res: Response, named: string | undefined): Promise<string> {
    const limited = keyAccounts(res);
    if (named === undefined) {
      const visible = limited ?? (await visibleAccounts(res));
      if (visible.length === 1) return visible[0];
      const detail = [{ field: 'account', message: 'required: more than one account can be used with this key' }];
      throw new HttpError(400, 'invalid_request', 'name the account (its appid) in "account"', detail);
    }
    if (limited !== null && !limited.includes(named)) throw new HttpError(403, 'forbidden', `this API key may not use account ${named}`);
    return named;
  }

  router.post('/notifications', async (req, res) => {
    if (!req.is('application/json')) throw new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
    const parsed = notificationBody.safeParse(req.body);
    if (!parsed.success) throw new HttpError(400, 'invalid_request', 'the body does not match the notification schema', fieldErrors(parsed.error));
    const key = req.get('idempotency-key');
    if (key !== undefined && !/^[\x21-\x7e]{1,200}$/.test(key)) {
      throw new HttpError(400, 'invalid_request', 'Idempotency-Key must be 1-200 printable ASCII characters', [{ field: 'Idempotency-Key', message: 'invalid' }]);
    }
    const { account: named, ...body } = parsed.data;
    const appid = await chosenAccount(res, named);
    const state = await deps.accounts.state(appid);
    if (state === 'unknown') throw new HttpError(400, 'unknown_account', `no account ${appid} here (not configured or not authorised)`, [{ field: 'account', message: 'unknown' }]);
    if (state === 'unauthorized') throw new HttpError(409, 'account_unauthorized', `account ${appid} revoked its authorisation: nothing can be sent for it`);
    const request: NotificationRequest = {
      ...body,
      data: Object.fromEntries(Object.entries(body.data).map(([k, v]) => [k, typeof v === 'string' ? { value: v } : v])),
    };
    try {
      const result = await deps.accounts.runtime(appid).delivery.notifications.accept(request, res.locals.client as string, key);
      if (result.replayed) res.set('Idempotent-Replayed', 'true');
      else deps.onAccepted?.();
      res.status(202).json({ id: result.id, status: result.status });
    } catch (err) {
      if (err instanceof UnknownTemplateError) throw new HttpError(400, 'unknown_template', err.message, [{ field: 'template', message: err.message }]);
      if (err instanceof IdempotencyConflictError) throw new HttpError(409, 'idempotency_conflict', err.message, { id: err.existingId });
      throw err;
    }
  });

  router.get('/notifications/:id', async (req, res) => {
    // Another client's (or another account's) notification answers exactly as an unknown id does.
    const appid = deps.accountOfId(req.params.id);
    const limited = keyAccounts(res);
    const visible = appid !== null && (limited === null || limited.includes(appid));
    const n = visible ? await deps.accounts.runtime(appid).delivery.notifications.get(req.params.id, res.locals.client as string) : null;
    if (!n) throw new HttpError(404, 'not_found', `no notification ${req.params.id}`);
    res.json(notificationView(n));
  });

  router.get('/templates', async (req, res) => {
    const named = typeof req.query.account === 'string' ? req.query.account : undefined;
    const appid = await chosenAccount(res, named);
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
  const { kind, tokens, delivery } = accounts.runtime(appid);
  const templates = await delivery.templates.overview();
  const pausedUntil = await delivery.quota.pausedUntil();
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
  };
}
