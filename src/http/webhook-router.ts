import { Router, type Request, type Response } from 'express';
import type { AccountState } from '../delivery/account-state';
import { EVENT_STATUSES, type Status } from '../delivery/lifecycle';
import { UnsafeUrlError } from '../outbound/address-guard';
import type { Endpoint } from '../outbound/endpoints';
import { deliveryView } from '../outbound/views';
import type { Webhooks } from '../outbound/webhooks';
import { mergePages } from '../store/merged-page';
import { eventTimeOf, type StoredDelivery } from '../store/webhook-store';
import { keyAccounts } from './auth';
import { HttpError } from './errors';
import { fieldErrors } from './notification-schema';
import { deliveriesQuery, webhookEndpointCreate, type DeliveryQueued, type EndpointRecovered } from './schemas/webhooks';
import { visibleNotification, type NotificationLookup } from './visible-notification';

/** An API client may register this many endpoints. */
export const MAX_ENDPOINTS_PER_CLIENT = 50;

export interface WebhookRouterDeps {
  webhooks: Webhooks;
  /** Whether an account exists here (for endpoints limited to accounts). */
  accountState(appid: string): Promise<AccountState>;
  /** Finding a notification, for its deliveries. */
  notifications: NotificationLookup;
}

type DeliveryPlace = Pick<StoredDelivery, 'createdAt' | 'id'>;

/** Newest first, as each endpoint lists them (equal times by id, reversed). */
const newestFirst = (a: DeliveryPlace, b: DeliveryPlace) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/** A delivery's place in the order, from its id alone (the id holds its event's time). */
const placeOf = (id: string): DeliveryPlace => ({ id, createdAt: eventTimeOf(id) ?? 0 });

/** A notice's events are recorded by its moves into these statuses, at the time of the move's history line: its deliveries are created then. */
const eventTimes = (history: ReadonlyArray<{ at: string; status: string }>): number[] =>
  history.filter((e) => EVENT_STATUSES.has(e.status as Status)).map((e) => Date.parse(e.at));

/** The key of the request, as the API knows it (see bearerAuth). */
const clientOf = (res: Response) => res.locals.client as string;

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
    const { status: state, endpoint: only, notification, limit, after } = parsed.data;
    const endpoints = only === undefined ? (await webhooks.registry.all()).filter((e) => visible(res, e)) : [await visibleEndpoint(res, only)];
    if (notification !== undefined) {
      const found = await visibleNotification(deps.notifications, notification, res);
      if (!found) throw new HttpError(404, 'not_found', `no notification ${notification}`);
      const times = eventTimes(found.n.history);
      const lists = await Promise.all(endpoints.map((e) => webhooks.deliveriesOf(e.id, notification, times)));
      const deliveries = lists.flat().filter((d) => state === undefined || d.state === state);
      res.json({ deliveries: deliveries.sort(newestFirst).map((d) => deliveryView(d)), next: null });
      return;
    }
    // every endpoint listed from the same place on, merged: a page goes no further than any endpoint has looked
    const pages = await Promise.all(endpoints.map((e) => webhooks.listDeliveries(e.id, { state, after, limit })));
    const merged = mergePages(
      pages.map((p) => ({ items: p.deliveries, frontier: p.next === null ? null : placeOf(p.next) })),
      newestFirst,
      limit,
    );
    res.json({ deliveries: merged.items.map((d) => deliveryView(d)), next: merged.next?.id ?? null });
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
