import type { Logger } from '../log/logger';
import { deliveryId, type OutboxBatch, type OutboxEvent, type WebhookStore } from '../store/webhook-store';
import { wants, type EndpointRegistry, type EventAudience } from './endpoints';
import { clientOf, payloadOf } from './payload';

/** An outbox is leased this long to the instance handing its events on. */
const LEASE_MS = 30_000;
/** Outboxes and events taken per claim. */
const OUTBOXES_PER_CLAIM = 16;
const EVENTS_PER_OUTBOX = 100;

/**
 * Hands the outboxes' events on to the endpoints: each event becomes one delivery per endpoint that
 * wants it, then leaves its outbox. A delivery's id comes from the event's and the endpoint's, so
 * when an instance dies half-way and another hands the same events on again, nothing is doubled;
 * the events of an outbox are handed on oldest first, so each endpoint gets a notice's events in
 * the order its moves happened.
 */
export class FanOut {
  constructor(
    private readonly store: WebhookStore,
    private readonly registry: EndpointRegistry,
    private readonly retentionSeconds: number,
    private readonly log: Logger,
    private readonly now: () => number,
    /** A delivery was created for this endpoint. */
    private readonly onDelivery: (endpoint: string) => void,
  ) {}

  /** One claim: returns how many events were handed on. */
  async runOnce(): Promise<number> {
    const batches = await this.store.claimOutbox(this.now(), LEASE_MS, OUTBOXES_PER_CLAIM, EVENTS_PER_OUTBOX);
    const handed = await Promise.all(batches.map((batch) => this.handOn(batch)));
    return handed.reduce((sum, n) => sum + n, 0);
  }

  private async handOn(batch: OutboxBatch): Promise<number> {
    const endpoints = await this.registry.all();
    for (const event of batch.events) {
      const audience = await this.audienceOf(event);
      const wanting = endpoints.filter((endpoint) => wants(endpoint, audience));
      // no endpoint wants it (none registered, or none for this account or type): no body to build
      if (wanting.length === 0) continue;
      let body: string;
      try {
        body = payloadOf(event);
      } catch (err) {
        // an event that cannot be read would hold up its outbox for ever: it is logged and dropped
        this.log.error('webhook event unreadable; dropped', { event: event.id, type: event.type, err });
        continue;
      }
      await Promise.all(
        wanting.map(async (endpoint) => {
            const created = await this.store.createDelivery(
              { id: deliveryId(event.id, endpoint.id), endpoint: endpoint.id, event: event.id, type: event.type, account: event.account, subject: event.subject, body, createdAt: event.at },
              this.retentionSeconds,
            );
            if (created) this.onDelivery(endpoint.id);
          }),
      );
    }
    await this.store.ackOutbox(batch, this.now());
    return batch.events.length;
  }

  private async audienceOf(event: OutboxEvent): Promise<EventAudience> {
    if (event.type === 'webhook.endpoint_disabled') {
      // an endpoint's trouble is told to the config's endpoints and to its owner's other ones
      const about = await this.registry.get(event.subject);
      return { type: event.type, account: null, owner: about?.owner ?? null, except: event.subject };
    }
    return { type: event.type, account: event.account, client: clientOf(event) };
  }
}
