import { WakeablePause } from '../wakeable-pause';
import type { Logger } from '../log/logger';
import type { Metrics } from '../metrics/metrics';
import {
  endpointOfDelivery,
  type DeliveryAttempt,
  type DeliveryPage,
  type DeliveryState,
  type EndpointState,
  type NewEvent,
  type RetryResult,
  type StoredDelivery,
  type WebhookStore,
} from '../store/webhook-store';
import type { AccountUnauthorized, TemplateValidity, WebhookEndpointView } from '../http/schemas/webhooks';
import { AddressGuard, type Resolve } from './address-guard';
import { configEndpoint, EndpointRegistry, newEndpointId, type Endpoint } from './endpoints';
import { EndpointWorker } from './endpoint-worker';
import type { WebhookEventType } from './event-types';
import { FanOut } from './fan-out';
import { WebhookSender } from './sender';
import { newSecret } from './signature';
import { endpointView } from './views';

/** On stop, attempts in flight get this long to end (the service has about 25 s for everything). */
const STOP_GRACE_MS = 5000;
/** A fan-out that handed on fewer events than this waits GATHER_MS before it claims again. */
const GATHER_BELOW = 64;
const GATHER_MS = 10;

export interface WebhookSettings {
  /** Allow http and private addresses (tests, the demo, a receiver on the operator's own network). */
  allowPrivate: boolean;
  /** Endpoints of the config. */
  endpoints: ReadonlyArray<{ url: string; secret: string; events?: readonly WebhookEventType[]; accounts?: readonly string[] }>;
  /** Deliveries are kept this long. */
  retentionSeconds: number;
  /** How often the outboxes are looked at (and the longest an idle endpoint waits, times ten, up to a second). */
  pollMs: number;
}

/** What a new endpoint is registered with through the API. */
export interface EndpointRequest {
  url: string;
  events?: readonly WebhookEventType[];
  accounts?: readonly string[];
  description?: string;
}

/**
 * The status webhooks of this instance: the fan-out from the outboxes, one worker per endpoint, the
 * events that are not notice moves, and what the API does with endpoints and deliveries. Every
 * instance runs the same loops over the shared store (outboxes and deliveries are claimed with
 * leases), so any of them delivers and none is needed in particular.
 */
export class Webhooks {
  readonly registry: EndpointRegistry;
  readonly guard: AddressGuard;
  private readonly sender: WebhookSender;
  private readonly fanOut: FanOut;
  private readonly workers = new Map<string, EndpointWorker>();
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly pauses = new WakeablePause();

  constructor(
    private readonly store: WebhookStore,
    private readonly settings: WebhookSettings,
    private readonly log: Logger,
    private readonly metrics: Pick<Metrics, 'webhookAttempt'>,
    private readonly now: () => number = Date.now,
    resolve?: Resolve,
  ) {
    this.guard = new AddressGuard(settings.allowPrivate, resolve);
    this.registry = new EndpointRegistry(store, settings.endpoints.map(configEndpoint));
    this.sender = new WebhookSender(this.guard, 'wxreach-webhooks/1');
    this.fanOut = new FanOut(store, this.registry, settings.retentionSeconds, log, now, (endpoint) => this.pokeWorker(endpoint));
    for (const e of settings.endpoints) log.secret(e.secret);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Events may be waiting: look now. */
  poke(): void {
    this.pauses.wake();
  }

  /** Stops handing on and attempting; attempts still in flight after a few seconds are left to their lease. */
  async stop(): Promise<void> {
    this.running = false;
    this.poke();
    await this.loop;
    await Promise.all([...this.workers.values()].map((w) => w.stop(STOP_GRACE_MS)));
    await this.sender.close();
  }

  private get idleMs(): number {
    return Math.min(1000, this.settings.pollMs * 10);
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.syncWorkers();
        const handed = await this.fanOut.runOnce();
        if (handed === 0) await this.pauses.pause(this.settings.pollMs);
        // a few: more are on their way, so they are let gather a moment (one claim for many events,
        // not one per event or two, while receipts come steadily)
        else if (handed < GATHER_BELOW) await this.pauses.pause(Math.min(GATHER_MS, this.settings.pollMs));
      } catch (err) {
        this.log.error('cannot hand webhook events on; retrying', { err });
        await this.pauses.pause(this.settings.pollMs * 10);
      }
    }
  }

  /** A worker for every endpoint there is (new ones registered by any instance), none for deleted ones. */
  private async syncWorkers(): Promise<void> {
    const endpoints = await this.registry.all();
    const ids = new Set(endpoints.map((e) => e.id));
    for (const e of endpoints) if (!this.workers.has(e.id)) this.startWorker(e);
    for (const [id, worker] of this.workers) {
      if (ids.has(id)) continue;
      this.workers.delete(id);
      void worker.stop(0).then(() => this.sender.forget(id));
    }
  }

  private startWorker(endpoint: Endpoint): EndpointWorker {
    const worker = new EndpointWorker(endpoint, {
      store: this.store,
      sender: this.sender,
      log: this.log,
      metrics: this.metrics,
      now: this.now,
      idleMs: this.idleMs,
      disabled: (e, state) => this.endpointDisabled(e, state),
    });
    this.workers.set(endpoint.id, worker);
    if (this.running) worker.start();
    return worker;
  }

  /** A delivery was created: its endpoint's worker looks now (an endpoint new to this instance is picked up at the next sync). */
  private pokeWorker(endpoint: string): void {
    this.workers.get(endpoint)?.poke();
  }

  // --- events that are not notice moves: recorded right after the change they report ---------

  private async record(event: Omit<NewEvent, 'at' | 'data'> & { data: unknown }): Promise<void> {
    try {
      await this.store.appendEvent({ ...event, at: this.now(), data: JSON.stringify(event.data) });
      this.poke();
    } catch (err) {
      this.log.error('webhook event not recorded', { type: event.type, account: event.account, subject: event.subject, err });
    }
  }

  /** A template of `account` became unusable, or usable again. */
  templateValidity(account: string, change: { templateId: string; valid: boolean; reason?: string; since: string }): Promise<void> {
    const { templateId, valid, reason, since } = change;
    return this.record({
      type: valid ? 'template.valid' : 'template.invalid',
      account,
      subject: `template:${templateId}`,
      data: { account, templateId, valid, since, reason: reason ?? null } satisfies TemplateValidity,
    });
  }

  /** A merchant revoked the platform's authorisation. */
  accountUnauthorized(account: string): Promise<void> {
    return this.record({ type: 'account.unauthorized', account, subject: `account:${account}`, data: { appid: account, kind: 'authorizer', state: 'unauthorized' } satisfies AccountUnauthorized });
  }

  private endpointDisabled(endpoint: Endpoint, state: EndpointState): void {
    this.log.warn('webhook endpoint disabled', { endpoint: endpoint.id, reason: state.disabledReason });
    void this.record({ type: 'webhook.endpoint_disabled', account: null, subject: endpoint.id, data: endpointView(endpoint, state) });
  }

  // --- endpoints and deliveries, for the API ---------------------------------------------------

  /** Registers an endpoint of API client `owner` (the URL checked already); the secret is returned this once. */
  async createEndpoint(owner: string, request: EndpointRequest): Promise<{ endpoint: Endpoint; secret: string }> {
    const secret = newSecret();
    this.log.secret(secret);
    const endpoint: Endpoint = {
      id: newEndpointId(),
      url: request.url,
      secret,
      events: request.events ?? null,
      accounts: request.accounts ?? null,
      owner,
      createdAt: this.now(),
      ...(request.description ? { description: request.description } : {}),
    };
    await this.registry.save(endpoint);
    this.startWorker(endpoint);
    return { endpoint, secret };
  }

  async deleteEndpoint(id: string): Promise<void> {
    await this.registry.delete(id);
    await this.syncWorkers();
  }

  async view(endpoint: Endpoint): Promise<WebhookEndpointView> {
    return endpointView(endpoint, await this.store.endpointState(endpoint.id));
  }

  /** Deliveries on every endpoint's schedule (see WebhookStore.scheduledDeliveries). */
  async scheduledDeliveries(): Promise<number> {
    const counts = await Promise.all((await this.registry.all()).map((e) => this.store.scheduledDeliveries(e.id)));
    return counts.reduce((sum, n) => sum + n, 0);
  }

  listDeliveries(endpoint: string, options: { state?: DeliveryState; after?: string; limit: number }): Promise<DeliveryPage> {
    return this.store.listDeliveries(endpoint, options);
  }

  /** The deliveries of `subject` to `endpoint` created at one of `times`, oldest first. */
  deliveriesOf(endpoint: string, subject: string, times: readonly number[]): Promise<StoredDelivery[]> {
    return this.store.deliveriesOf(endpoint, subject, times);
  }

  /** The delivery and its endpoint, or null when there is no such delivery. */
  async delivery(id: string): Promise<{ delivery: StoredDelivery; attempts: DeliveryAttempt[]; endpoint: Endpoint } | null> {
    const endpointId = endpointOfDelivery(id);
    const endpoint = endpointId === null ? null : await this.registry.get(endpointId);
    if (!endpoint) return null;
    const found = await this.store.getDelivery(endpoint.id, id);
    return found && { ...found, endpoint };
  }

  async retry(endpoint: Endpoint, id: string): Promise<RetryResult> {
    const result = await this.store.retryDelivery(endpoint.id, id, this.now());
    if (result === 'queued') this.pokeWorker(endpoint.id);
    return result;
  }

  /** Enables the endpoint and attempts again every delivery created since `since` whose latest attempt failed. */
  async recover(endpoint: Endpoint, since: number): Promise<number> {
    const count = await this.store.recoverDeliveries(endpoint.id, since, this.now());
    this.log.info('webhook endpoint recovered', { endpoint: endpoint.id, since: new Date(since).toISOString(), deliveries: count });
    this.pokeWorker(endpoint.id);
    return count;
  }
}
