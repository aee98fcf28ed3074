import { claimDue } from './scripts/claim-due';
import type { RedisConnection } from './redis-connection';
import type { RedisKeys, WebhookKeys } from './redis-keys';
import type { RedisOutboxes } from './redis-outboxes';
import {
  createDelivery,
  dropEndpoint,
  forgetEndpoint,
  listDeliveries,
  readDelivery,
  recoverDeliveries,
  retryDelivery,
  settleDelivery,
  subjectDeliveries,
} from './scripts/webhook-deliveries';
import type { Fields } from './store';
import {
  checkEndpointId,
  deliveryFields,
  deliveryFromFields,
  eventTimeOf,
  type DeliveryAttempt,
  type DeliveryPage,
  type DeliveryRef,
  type DeliveryState,
  type EndpointState,
  type NewDelivery,
  type NewEvent,
  type OutboxBatch,
  type RetryResult,
  type Settlement,
  type StoredDelivery,
  type WebhookStore,
} from './webhook-store';

/** Attempts kept per delivery (the schedule makes eight; retries by hand add more). */
const ATTEMPTS_KEPT = 20;
/** A listing looks at no more than this many deliveries per call (so a rare state cannot make it scan everything). */
const LIST_SCAN_LIMIT = 5000;

function unflatten(flat: string[]): Fields {
  const fields: Fields = {};
  for (let i = 0; i < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
  return fields;
}

const dueOf = (score: string | null): number | null => (score === '' || score === null ? null : Number(score));

/** Webhook events and deliveries in Redis (see WebhookStore; the scripts in scripts/outbox.ts and scripts/webhook-deliveries.ts). */
export class RedisWebhookStore implements WebhookStore {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly outboxes: RedisOutboxes,
  ) {}

  private endpoint(id: string): WebhookKeys {
    checkEndpointId(id);
    return this.keys.webhook(id);
  }

  appendEvent(event: NewEvent): Promise<string> {
    return this.outboxes.append(event);
  }

  claimOutbox(now: number, leaseMs: number, outboxes: number, events: number): Promise<OutboxBatch[]> {
    return this.outboxes.claim(now, leaseMs, outboxes, events);
  }

  ackOutbox(batch: OutboxBatch, now: number): Promise<void> {
    return this.outboxes.ack(batch, now);
  }

  waitingEvents(): Promise<number> {
    return this.outboxes.waiting();
  }

  async scheduledDeliveries(endpoint: string): Promise<number> {
    const k = this.endpoint(endpoint);
    return this.redis.call('scheduledDeliveries', (redis) => redis.zCard(k.due));
  }

  async createDelivery(delivery: NewDelivery, ttlSeconds: number): Promise<boolean> {
    const k = this.endpoint(delivery.endpoint);
    const reply = await this.redis.run(
      createDelivery,
      [k.delivery(delivery.id), k.order(delivery.subject), k.due, k.all],
      [delivery.id, String(ttlSeconds), String(delivery.createdAt), String(delivery.createdAt - ttlSeconds * 1000), ...Object.entries(deliveryFields(delivery)).flat()],
    );
    return reply === 1;
  }

  private async read(k: WebhookKeys, id: string): Promise<{ delivery: StoredDelivery; attempts: DeliveryAttempt[] } | null> {
    const [flat, due, attempts] = (await this.redis.run(readDelivery, [k.delivery(id), k.due, k.attempts(id)], [id])) as [string[], string, string[]];
    const fields = unflatten(flat);
    if (fields.state === undefined) return null;
    return { delivery: deliveryFromFields(fields, dueOf(due)), attempts: attempts.map((a) => JSON.parse(a) as DeliveryAttempt) };
  }

  async claimDeliveries(endpoint: string, now: number, leaseMs: number, limit: number): Promise<{ deliveries: StoredDelivery[]; nextDueAt: number | null }> {
    const k = this.endpoint(endpoint);
    const [earliest, ...ids] = (await this.redis.run(claimDue, [k.due], [String(now), String(now + leaseMs), String(limit), k.delivery('')])) as string[];
    const read = await Promise.all(ids.map((id) => this.read(k, id)));
    return { deliveries: read.flatMap((r) => (r ? [r.delivery] : [])), nextDueAt: dueOf(earliest) };
  }

  async settleDelivery({ id, endpoint, subject }: DeliveryRef, s: Settlement): Promise<{ disabled: EndpointState | null }> {
    const k = this.endpoint(endpoint);
    const reply = (await this.redis.run(
      settleDelivery,
      [k.delivery(id), k.attempts(id), k.order(subject), k.due, k.state],
      [
        id,
        s.succeeded ? '1' : '0',
        JSON.stringify(s.attempt),
        String(s.attempt.at),
        s.retryAt === null ? '' : String(s.retryAt),
        s.disable ?? '',
        String(s.failingLimitMs),
        String(ATTEMPTS_KEPT),
      ],
    )) as Array<number | string>;
    if (reply.length < 4) return { disabled: null };
    return { disabled: { disabledAt: Number(reply[1]), disabledReason: String(reply[2]), failingSince: Number(reply[3]) } };
  }

  getDelivery(endpoint: string, id: string): Promise<{ delivery: StoredDelivery; attempts: DeliveryAttempt[] } | null> {
    return this.read(this.endpoint(endpoint), id);
  }

  async listDeliveries(endpoint: string, options: { state?: DeliveryState; after?: string; limit: number }): Promise<DeliveryPage> {
    const k = this.endpoint(endpoint);
    const [found, last] = (await this.redis.run(
      listDeliveries,
      [k.all, k.due],
      [options.after ?? '', options.state ?? '', String(options.limit), k.delivery(''), String(LIST_SCAN_LIMIT), String(eventTimeOf(options.after ?? '') ?? '')],
    )) as [Array<[string[], string]>, string];
    return { deliveries: found.map(([flat, due]) => deliveryFromFields(unflatten(flat), dueOf(due))), next: last === '' ? null : last };
  }

  async deliveriesOf(endpoint: string, subject: string, times: readonly number[]): Promise<StoredDelivery[]> {
    const k = this.endpoint(endpoint);
    const ordered = [...new Set(times)].sort((a, b) => a - b).map(String);
    const found = (await this.redis.run(subjectDeliveries, [k.all, k.due], [subject, k.delivery(''), ...ordered])) as Array<[string[], string]>;
    return found.map(([flat, due]) => deliveryFromFields(unflatten(flat), dueOf(due)));
  }

  async retryDelivery(endpoint: string, id: string, now: number): Promise<RetryResult> {
    const k = this.endpoint(endpoint);
    const subject = (await this.read(k, id))?.delivery.subject;
    if (subject === undefined) return 'unknown';
    return (await this.redis.run(retryDelivery, [k.delivery(id), k.order(subject), k.due], [id, String(now)])) as RetryResult;
  }

  async recoverDeliveries(endpoint: string, since: number, now: number): Promise<number> {
    const k = this.endpoint(endpoint);
    return (await this.redis.run(recoverDeliveries, [k.all, k.due, k.state], [String(since), String(now), k.delivery('')])) as number;
  }

  async endpointState(endpoint: string): Promise<EndpointState> {
    const k = this.endpoint(endpoint);
    const h = (await this.redis.call('endpointState', (redis) => redis.hGetAll(k.state))) as Fields;
    const num = (v: string | undefined) => (v === undefined ? null : Number(v));
    return { disabledAt: num(h.disabledAt), disabledReason: h.disabledReason ?? null, failingSince: num(h.failingSince) };
  }

  async listEndpoints(): Promise<Record<string, string>> {
    return { ...((await this.redis.call('listEndpoints', (redis) => redis.hGetAll(this.keys.deployment.webhookEndpoints))) as Fields) };
  }

  async saveEndpoint(id: string, definition: string): Promise<void> {
    checkEndpointId(id);
    await this.redis.call('saveEndpoint', (redis) => redis.hSet(this.keys.deployment.webhookEndpoints, id, definition));
  }

  async deleteEndpoint(id: string): Promise<void> {
    const k = this.endpoint(id);
    await this.redis.run(forgetEndpoint, [this.keys.deployment.webhookEndpoints], [id]);
    await this.redis.run(dropEndpoint, [k.due, k.all, k.state], []);
  }
}
