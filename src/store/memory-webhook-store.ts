import { randomBytes } from 'node:crypto';
import { checkLease } from './checks';
import type { Fields, HistoryEntry, RecordEvent } from './store';
import { TtlMap } from './ttl-map';
import {
  checkEndpointId,
  deliveryFields,
  deliveryFromFields,
  eventTimeOf,
  newEventId,
  type DeliveryAttempt,
  type DeliveryPage,
  type DeliveryRef,
  type DeliveryState,
  type EndpointState,
  type NewDelivery,
  type NewEvent,
  type OutboxBatch,
  type OutboxEvent,
  type RetryResult,
  type Settlement,
  type StoredDelivery,
  type WebhookStore,
} from './webhook-store';

const ATTEMPTS_KEPT = 20;

/** One endpoint's schedule, orders, list and state. */
interface EndpointQueues {
  due: Map<string, number>;
  all: Map<string, number>;
  order: Map<string, string[]>;
  state: EndpointState;
}

const noState = (): EndpointState => ({ disabledAt: null, disabledReason: null, failingSince: null });

/**
 * The webhook part of the memory store (see WebhookStore). One outbox for every account (a single
 * process keeps the order of everything); each method runs without an await in between, so it is
 * atomic as the Redis scripts are.
 */
export class MemoryWebhookStore implements WebhookStore {
  private readonly outbox: OutboxEvent[] = [];
  private outboxLease: { token: string; until: number } | null = null;
  private entries = 0;
  private readonly deliveries: TtlMap<{ fields: Fields; attempts: DeliveryAttempt[] }>;
  private readonly queues = new Map<string, EndpointQueues>();
  private readonly endpoints = new Map<string, string>();

  constructor(private readonly now: () => number) {
    this.deliveries = new TtlMap(now);
  }

  sweep(): void {
    this.deliveries.sweep();
  }

  /** A record move's event (called by the account stores within the move). */
  recordMoved(account: string, id: string, event: RecordEvent, fields: Fields, history: HistoryEntry[]): void {
    const kept: Fields = {};
    for (const name of event.fields) if (fields[name] !== undefined) kept[name] = fields[name];
    this.push({ id: newEventId(event.at), type: event.type, at: event.at, account, subject: id, record: { fields: kept, history: history.map((e) => ({ ...e })) } });
  }

  private push(event: Omit<OutboxEvent, 'entry'>): void {
    this.outbox.push({ ...event, entry: String(++this.entries) });
  }

  async appendEvent(event: NewEvent): Promise<string> {
    const id = newEventId(event.at);
    this.push({ id, type: event.type, at: event.at, account: event.account, subject: event.subject, data: event.data });
    return id;
  }

  async claimOutbox(now: number, leaseMs: number, outboxes: number, events: number): Promise<OutboxBatch[]> {
    checkLease(leaseMs);
    if (outboxes <= 0 || this.outbox.length === 0 || (this.outboxLease && this.outboxLease.until > now)) return [];
    const token = randomBytes(8).toString('hex');
    this.outboxLease = { token, until: now + leaseMs };
    return [{ outbox: 'memory', token, events: this.outbox.slice(0, events).map((e) => ({ ...e })) }];
  }

  async ackOutbox(batch: OutboxBatch, _now: number): Promise<void> {
    const done = new Set(batch.events.map((e) => e.entry));
    for (let i = this.outbox.length - 1; i >= 0; i--) if (done.has(this.outbox[i].entry)) this.outbox.splice(i, 1);
    if (this.outboxLease?.token === batch.token) this.outboxLease = null;
  }

  async waitingEvents(): Promise<number> {
    return this.outbox.length;
  }

  async scheduledDeliveries(endpoint: string): Promise<number> {
    const q = this.queuesOf(endpoint);
    return [...q.due.keys()].filter((id) => this.deliveries.has(id)).length;
  }

  private queuesOf(endpoint: string): EndpointQueues {
    checkEndpointId(endpoint);
    let q = this.queues.get(endpoint);
    if (!q) this.queues.set(endpoint, (q = { due: new Map(), all: new Map(), order: new Map(), state: noState() }));
    return q;
  }

  private view(q: EndpointQueues, id: string): StoredDelivery | null {
    const d = this.deliveries.get(id);
    return d ? deliveryFromFields(d.fields, q.due.get(id) ?? null) : null;
  }

  async createDelivery(delivery: NewDelivery, ttlSeconds: number): Promise<boolean> {
    const q = this.queuesOf(delivery.endpoint);
    if (this.deliveries.has(delivery.id)) return false;
    const fields = { ...deliveryFields(delivery), state: 'pending', attempts: '0', inOrder: '1', givenUp: '0' };
    this.deliveries.set(delivery.id, { fields, attempts: [] }, this.now() + ttlSeconds * 1000);
    const order = q.order.get(delivery.subject) ?? [];
    order.push(delivery.id);
    q.order.set(delivery.subject, order);
    if (order[0] === delivery.id) q.due.set(delivery.id, delivery.createdAt);
    q.all.set(delivery.id, delivery.createdAt);
    for (const [id, at] of q.all) if (at < delivery.createdAt - ttlSeconds * 1000) q.all.delete(id);
    return true;
  }

  async claimDeliveries(endpoint: string, now: number, leaseMs: number, limit: number): Promise<{ deliveries: StoredDelivery[]; nextDueAt: number | null }> {
    checkLease(leaseMs);
    const q = this.queuesOf(endpoint);
    for (const id of q.due.keys()) if (!this.deliveries.has(id)) q.due.delete(id);
    const due = [...q.due].filter(([, at]) => at <= now).sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
    const claimed = due.slice(0, Math.max(0, limit)).map(([id]) => id);
    for (const id of claimed) q.due.set(id, now + leaseMs);
    const next = [...q.due.values()].reduce<number | null>((min, at) => (min === null || at < min ? at : min), null);
    return { deliveries: claimed.map((id) => this.view(q, id) as StoredDelivery), nextDueAt: next };
  }

  async settleDelivery({ id, endpoint }: DeliveryRef, s: Settlement): Promise<{ disabled: EndpointState | null }> {
    const q = this.queuesOf(endpoint);
    const d = this.deliveries.get(id);
    if (!d) return { disabled: null };
    const f = d.fields;
    d.attempts = [...d.attempts, s.attempt].slice(-ATTEMPTS_KEPT);
    f.attempts = String(Number(f.attempts) + 1);
    f.lastAttempt = JSON.stringify(s.attempt);
    const inOrder = f.inOrder === '1';
    if (f.state === 'succeeded') {
      if (!inOrder) q.due.delete(id);
      return { disabled: null };
    }
    f.state = s.succeeded ? 'succeeded' : 'failed';
    if (s.succeeded || s.retryAt === null || !inOrder) {
      q.due.delete(id);
      if (!s.succeeded) f.givenUp = '1';
      if (inOrder) {
        f.inOrder = '0';
        const order = q.order.get(f.subject) ?? [];
        if (order[0] === id) {
          order.shift();
          if (order.length > 0) q.due.set(order[0], s.attempt.at);
          else q.order.delete(f.subject);
        }
      }
    } else {
      q.due.set(id, s.retryAt);
    }
    const state = q.state;
    if (s.succeeded) {
      state.failingSince = null;
      return { disabled: null };
    }
    state.failingSince ??= s.attempt.at;
    if (state.disabledAt !== null) return { disabled: null };
    const reason = s.disable ?? (s.attempt.at - state.failingSince >= s.failingLimitMs ? 'failing' : null);
    if (reason === null) return { disabled: null };
    state.disabledAt = s.attempt.at;
    state.disabledReason = reason;
    return { disabled: { ...state } };
  }

  async getDelivery(endpoint: string, id: string): Promise<{ delivery: StoredDelivery; attempts: DeliveryAttempt[] } | null> {
    const q = this.queuesOf(endpoint);
    const delivery = this.view(q, id);
    return delivery ? { delivery, attempts: (this.deliveries.get(id) as { attempts: DeliveryAttempt[] }).attempts.map((a) => ({ ...a })) } : null;
  }

  async listDeliveries(endpoint: string, options: { state?: DeliveryState; after?: string; limit: number }): Promise<DeliveryPage> {
    const q = this.queuesOf(endpoint);
    // newest first, as Redis orders equal scores: by member, reversed
    const newestFirst = (a: [string, number], b: [string, number]) => b[1] - a[1] || (a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : 0);
    const entries = [...q.all].sort(newestFirst);
    const ids = entries.map(([id]) => id);
    let start = 0;
    if (options.after !== undefined) {
      // after a delivery of another endpoint (or one gone): after its place, by its time and id
      const after = options.after;
      const at = eventTimeOf(after);
      if (!ids.includes(after) && at === null) return { deliveries: [], next: null };
      start = ids.includes(after) ? ids.indexOf(after) + 1 : entries.filter((e) => newestFirst(e, [after, at as number]) < 0).length;
    }
    const found: StoredDelivery[] = [];
    let last = -1;
    for (let i = start; i < ids.length && found.length < options.limit; i++) {
      last = i;
      const d = this.view(q, ids[i]);
      if (d && (options.state === undefined || d.state === options.state)) found.push(d);
    }
    return { deliveries: found, next: last >= 0 && last < ids.length - 1 && found.length >= options.limit ? ids[last] : null };
  }

  async deliveriesOf(endpoint: string, subject: string, times: readonly number[]): Promise<StoredDelivery[]> {
    const q = this.queuesOf(endpoint);
    const wanted = new Set(times);
    return [...q.all]
      .filter(([id, at]) => wanted.has(at) && this.deliveries.get(id)?.fields.subject === subject)
      .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))
      .map(([id]) => this.view(q, id) as StoredDelivery);
  }

  async retryDelivery(endpoint: string, id: string, now: number): Promise<RetryResult> {
    const q = this.queuesOf(endpoint);
    const d = this.deliveries.get(id);
    if (!d) return 'unknown';
    if (d.fields.inOrder === '1' && q.order.get(d.fields.subject)?.[0] !== id) return 'waiting';
    q.due.set(id, now);
    return 'queued';
  }

  async recoverDeliveries(endpoint: string, since: number, now: number): Promise<number> {
    const q = this.queuesOf(endpoint);
    q.state = noState();
    let count = 0;
    for (const [id, at] of q.all) {
      if (at >= since && this.deliveries.get(id)?.fields.state === 'failed') {
        q.due.set(id, now);
        count++;
      }
    }
    return count;
  }

  async endpointState(endpoint: string): Promise<EndpointState> {
    return { ...this.queuesOf(endpoint).state };
  }

  async listEndpoints(): Promise<Record<string, string>> {
    return Object.fromEntries(this.endpoints);
  }

  async saveEndpoint(id: string, definition: string): Promise<void> {
    checkEndpointId(id);
    this.endpoints.set(id, definition);
  }

  async deleteEndpoint(id: string): Promise<void> {
    checkEndpointId(id);
    this.endpoints.delete(id);
    this.queues.delete(id);
  }
}
