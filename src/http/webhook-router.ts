import { Router, type Request, type Response } from 'express';
import type { AccountState } from '../delivery/account-state';
import { UnsafeUrlError } from '../outbound/address-guard';
import type { Endpoint } from '../outbound/endpoints';
import { deliveryView } from '../outbound/views';
import type { Webhooks } from '../outbound/webhooks';
import type { StoredDelivery } from '../store/webhook-store';
import { HttpError } from './errors';
import { fieldErrors } from './notification-schema';
import { deliveriesQuery, webhookEndpointCreate, type DeliveryQueued, type EndpointRecovered } from './schemas/webhooks';

/** An API client may register this many endpoints. */
export const MAX_ENDPOINTS_PER_CLIENT = 50;

export interface WebhookRouterDeps {
  webhooks: Webhooks;
  /** Whether an account exists here (for endpoints limited to accounts). */
  accountState(appid: string): Promise<AccountState>;
}

/** The key of the request, as the API knows it (see bearerAuth). */
const clientOf = (res: Response) => res.locals.client as string;
const keyAccounts = (res: Response) => res.locals.accounts as readonly string[] | null;

/**
 * What a key sees: the endpoints it registered, and (a key of every account) those of the config,
 * which it may retry and recover but not delete, and whose bodies it does not see.
 */
const visible = (res: Response, e: Endpoint) => e.owner === clientOf(res) || (e.owner === null && keyAccounts(res) === null);

/**
 * /v1/webhook-endpoints and /v1/webhook-deliveries, behind the API's key check: each key manages
 * the endpoints it registered, limited to its accounts; another key's endpoint (or delivery)
 * answers 404 exactly as an unknown one.
 */
export function webhookRouter(deps: WebhookRouterDeps): Router {
  const { webhooks } = deps;
  const router = Router();

  async function visibleEndpoint(res: Response, id: string): Promise<Endpoint> {
    const endpoint = await webhooks.registry.get(id);
    if (!endpoint || !visible(res, endpoint)) throw new HttpError(404, 'not_found', `no webhook endpoint ${id}`);
    return endpoint;
  }

  async function visibleDelivery(res: Response, id: string) {
    const found = await webhooks.delivery(id);
    if (!found || !visible(res, found.endpoint)) throw new HttpError(404, 'not_found', `no webhook delivery ${id}`);
    return found;
  }

  /** The accounts a new endpoint gets: within the key's, and each one known here. */
  async function accountsFor(res: Response, asked: readonly string[] | undefined): Promise<readonly string[] | undefined> {
    const limited = keyAccounts(res);
    if (asked === undefined) return limited ?? undefined;
    const forbidden = limited === null ? [] : asked.filter((a) => !limited.includes(a));
    if (forbidden.length > 0) throw new HttpError(403, 'forbidden', `this API key may not use account ${forbidden[0]}`);
    const states = await Promise.all(asked.map((a) => deps.accountState(a)));
    const unknown = asked.filter((_, i) => states[i] === 'unknown');
    if (unknown.length > 0) throw new HttpError(400, 'unknown_account', `no account ${unknown[0]} here (not configured or not authorised)`, [{ field: 'accounts', message: 'unknown' }]);
    return asked;
  }

  router.post('/webhook-endpoints', async (req, res) => {
    if (!req.is('application/json')) throw new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
    const parsed = webhookEndpointCreate.safeParse(req.body);
    if (!parsed.success) throw new HttpError(400, 'invalid_request', 'the body does not match the webhook endpoint schema', fieldErrors(parsed.error));
    const { url, events, description } = parsed.data;
    try {
      await webhooks.guard.check(url);
    } catch (err) {
      if (!(err instanceof UnsafeUrlError)) throw err;
      throw new HttpError(400, 'invalid_request', `the endpoint URL is refused: ${err.message}`, [{ field: 'url', message: err.message }]);
    }
    const accounts = await accountsFor(res, parsed.data.accounts);
    const mine = (await webhooks.registry.all()).filter((e) => e.owner === clientOf(res));
    if (mine.length >= MAX_ENDPOINTS_PER_CLIENT) throw new HttpError(409, 'too_many_endpoints', `an API key may register ${MAX_ENDPOINTS_PER_CLIENT} endpoints; delete one first`);
    const { endpoint, secret } = await webhooks.createEndpoint(clientOf(res), { url, events, accounts, description });
    res.status(201).json({ ...(await webhooks.view(endpoint)), secret });
  });

  router.get('/webhook-endpoints', async (_req, res) => {
    const endpoints = (await webhooks.registry.all()).filter((e) => visible(res, e));
    res.json({ endpoints: await Promise.all(endpoints.map((e) => webhooks.view(e))) });
  });

  router.get('/webhook-endpoints/:id', async (req, res) => {
    res.json(await webhooks.view(await visibleEndpoint(res, req.params.id)));
  });

  router.delete('/webhook-endpoints/:id', async (req, res) => {
    const endpoint = await visibleEndpoint(res, req.params.id);
    if (endpoint.owner === null) throw new HttpError(409, 'config_endpoint', 'this endpoint is defined in the config: remove it there');
    await webhooks.deleteEndpoint(endpoint.id);
    res.status(204).end();
  });

  router.post('/webhook-endpoints/:id/recover', async (req, res) => {
    const endpoint = await visibleEndpoint(res, req.params.id);
    const since = typeof req.query.since === 'string' ? Date.parse(req.query.since) : NaN;
    if (Number.isNaN(since)) throw new HttpError(400, 'invalid_request', 'give ?since= as an ISO-8601 time', [{ field: 'since', message: 'required, an ISO-8601 time' }]);
    const deliveries = await webhooks.recover(endpoint, since);
    res.status(202).json({ endpoint: endpoint.id, since: new Date(since).toISOString(), deliveries } satisfies EndpointRecovered);
  });

  router.get('/webhook-deliveries', async (req: Request, res) => {
    const parsed = deliveriesQuery.safeParse(req.query);
    if (!parsed.success) throw new HttpError(400, 'invalid_request', 'the query does not match', fieldErrors(parsed.error));
    const { status: state, endpoint: only, limit, after } = parsed.data;
    const endpoints = only === undefined ? (await webhooks.registry.all()).filter((e) => visible(res, e)) : [await visibleEndpoint(res, only)];
    const pages = await Promise.all(endpoints.map((e) => webhooks.listDeliveries(e.id, { state, after, limit })));
    // across endpoints: the newest of each, merged (one endpoint's pages go on with `next`)
    const merged: StoredDelivery[] = pages.flatMap((p) => p.deliveries).sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
    res.json({ deliveries: merged.slice(0, limit).map((d) => deliveryView(d)), next: only === undefined ? null : pages[0].next });
  });

  router.get('/webhook-deliveries/:id', async (req, res) => {
    const { delivery, attempts, endpoint } = await visibleDelivery(res, req.params.id);
    // the config's endpoints get every client's notices: their bodies are for their receivers only
    res.json(deliveryView(delivery, { attempts, body: endpoint.owner !== null }));
  });

  router.post('/webhook-deliveries/:id/retry', async (req, res) => {
    const { delivery, endpoint } = await visibleDelivery(res, req.params.id);
    const result = await webhooks.retry(endpoint, delivery.id);
    if (result === 'unknown') throw new HttpError(404, 'not_found', `no webhook delivery ${delivery.id}`);
    if (result === 'waiting') {
      throw new HttpError(409, 'delivery_waiting', 'an earlier event of the same subject has not been accepted or given up by this endpoint yet; this one follows it');
    }
    res.status(202).json({ id: delivery.id, status: 'queued' } satisfies DeliveryQueued);
  });

  return router;
}
