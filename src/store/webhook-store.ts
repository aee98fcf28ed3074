import { randomBytes } from 'node:crypto';
import type { Fields, HistoryEntry } from './store';

/**
 * What the status webhooks keep: the outboxes of events, and per endpoint its deliveries, their
 * order and schedule, and its state. The store knows nothing of HTTP or signatures.
 *
 * Events. A record move with an `event` appends it to the outbox of the record's user in the same
 * atomic step as the change (see RecordMove.event); other events (about an account, a template or
 * an endpoint) go to the deployment's outbox through `appendEvent`. A fan-out claims outboxes with
 * a lease, turns each event into deliveries, and acknowledges the events it handed on; an outbox
 * whose claimer died comes back when the lease ends, so an event is never lost.
 *
 * Deliveries. Each endpoint keeps its own: creating one is idempotent (its id says which event and
 * endpoint), so a fan-out that runs twice doubles nothing. The deliveries of one subject (a notice,
 * a template…) go out in order: only the oldest one not yet settled (accepted or given up) is on the
 * endpoint's schedule; settling it puts the next one there.
 */

/** Random bytes for event ids, drawn 4 KiB at a time (one call to the system's generator per 512 ids, not one per id). */
let randomPool = Buffer.alloc(0);
let randomAt = 0;

/** An event id: time-ordered, unique, and what receivers see as `webhook-id`. */
export function newEventId(now: number): string {
  if (randomAt + 8 > randomPool.length) {
    randomPool = randomBytes(4096);
    randomAt = 0;
  }
  randomAt += 8;
  return `evt_${now.toString(16).padStart(12, '0')}${randomPool.toString('hex', randomAt - 8, randomAt)}`;
}

/** When the event of an event id (or of a delivery id) happened (ms), or null for anything else: its deliveries are created at that time. */
export function eventTimeOf(id: string): number | null {
  const match = /^evt_([0-9a-f]{12})[0-9a-f]{16}(?:\.|$)/.exec(id);
  return match ? parseInt(match[1], 16) : null;
}

/** An event waiting in an outbox. */
export interface OutboxEvent {
  id: string;
  type: string;
  at: number;
  /** The account it concerns; null for the deployment's own (an endpoint disabled). */
  account: string | null;
  /** What it is about (a record id, a template id, an endpoint id): one subject's events keep their order. */
  subject: string;
  /** A record's event: the fields it keeps and the history, as the move left them. */
  record?: { fields: Fields; history: HistoryEntry[] };
  /** Any other event: its data, as JSON. */
  data?: string;
  /** Its place in its outbox (for `ackOutbox`). */
  entry: string;
}

/** An event that is not a record move's. */
export interface NewEvent {
  type: string;
  at: number;
  account: string | null;
  subject: string;
  data: string;
}

/** Events of one outbox, leased to one fan-out. */
export interface OutboxBatch {
  outbox: string;
  /** The lease's token. */
  token: string;
  /** Oldest first. */
  events: OutboxEvent[];
}

export interface NewDelivery {
  /** `<event id>.<endpoint id>`: see deliveryId. */
  id: string;
  endpoint: string;
  event: string;
  type: string;
  account: string | null;
  subject: string;
  /** The request body (JSON). */
  body: string;
  createdAt: number;
}

/** Which delivery, and where it is kept. */
export type DeliveryRef = Pick<NewDelivery, 'id' | 'endpoint' | 'subject'>;

/** `failed`: the latest attempt failed, whether another one is scheduled or not. */
export type DeliveryState = 'pending' | 'succeeded' | 'failed';

export interface DeliveryAttempt {
  at: number;
  /** How long the attempt took. */
  ms: number;
  /** The endpoint's HTTP status, when it answered. */
  status?: number;
  /** Why it failed, when it did. */
  error?: string;
}

export interface StoredDelivery extends NewDelivery {
  state: DeliveryState;
  attempts: number;
  /** When it is next attempted (a lease end while in flight); null when not scheduled. */
  dueAt: number | null;
  /** Still in its subject's order (false once settled, and for a resend). */
  inOrder: boolean;
  /** Every scheduled attempt failed (or the endpoint refused it for good). */
  givenUp: boolean;
  lastAttempt?: DeliveryAttempt;
}

/** The outcome of one attempt, as the sender decided it. */
export interface Settlement {
  attempt: DeliveryAttempt;
  succeeded: boolean;
  /** A failed attempt: when to try again, or null to give up. Ignored when the delivery is not in its order. */
  retryAt: number | null;
  /** Disable the endpoint now (it answered 410 Gone). */
  disable?: string;
  /** A failed attempt disables the endpoint once it has failed without a success for this long. */
  failingLimitMs: number;
}

export interface EndpointState {
  disabledAt: number | null;
  disabledReason: string | null;
  /** The first failure since the last success. */
  failingSince: number | null;
}

export type RetryResult = 'queued' | 'waiting' | 'unknown';

export interface DeliveryPage {
  deliveries: StoredDelivery[];
  /** Pass as `after` for the next page; null at the end. */
  next: string | null;
}

export interface WebhookStore {
  /** Appends an event to the deployment's outbox; returns its id. */
  appendEvent(event: NewEvent): Promise<string>;
  /**
   * Leases up to `outboxes` outboxes that hold events (for `leaseMs`), each with up to `events` of
   * its oldest events. Two callers may rarely get the same events: handing them on is idempotent.
   */
  claimOutbox(now: number, leaseMs: number, outboxes: number, events: number): Promise<OutboxBatch[]>;
  /** The batch's events are handed on: they leave the outbox, which comes back at once if it has more. */
  ackOutbox(batch: OutboxBatch, now: number): Promise<void>;
  /**
   * Events in the outboxes, not yet handed on (for the metrics). Counted in the outboxes the index
   * names (up to OUTBOXES_COUNTED of them): one whose hint a crash lost shows after the next sweep.
   */
  waitingEvents(): Promise<number>;

  /** Creates the delivery unless it exists (it then changes nothing); true when created. Kept `ttlSeconds`. */
  createDelivery(delivery: NewDelivery, ttlSeconds: number): Promise<boolean>;
  /**
   * Deliveries on the endpoint's schedule: due, waiting for a retry, or in flight (for the metrics).
   * A subject's later deliveries wait behind its first and are not counted; none are left when it is 0.
   */
  scheduledDeliveries(endpoint: string): Promise<number>;
  /** Leases up to `limit` deliveries of `endpoint` due at `now`; `nextDueAt` is the earliest left on its schedule. */
  claimDeliveries(endpoint: string, now: number, leaseMs: number, limit: number): Promise<{ deliveries: StoredDelivery[]; nextDueAt: number | null }>;
  /** Records an attempt and its consequences; `disabled` when this attempt disabled the endpoint. */
  settleDelivery(delivery: DeliveryRef, settlement: Settlement): Promise<{ disabled: EndpointState | null }>;
  getDelivery(endpoint: string, id: string): Promise<{ delivery: StoredDelivery; attempts: DeliveryAttempt[] } | null>;
  /**
   * Newest first, optionally of one state, after the delivery `after` (a previous page's `next`;
   * one of another endpoint, or gone, marks a place in the order by its time and id). `next` is the
   * last delivery looked at when more may follow, even when fewer than `limit` were found.
   */
  listDeliveries(endpoint: string, options: { state?: DeliveryState; after?: string; limit: number }): Promise<DeliveryPage>;
  /** The deliveries of `subject` created at one of `times` (a record's events: at the times of their moves), oldest first. */
  deliveriesOf(endpoint: string, subject: string, times: readonly number[]): Promise<StoredDelivery[]>;
  /**
   * Attempts the delivery now: one waiting for its retry is attempted at once; a settled one is sent
   * once more, outside its order; 'waiting' when an earlier event of its subject is not settled yet.
   */
  retryDelivery(endpoint: string, id: string, now: number): Promise<RetryResult>;
  /** Enables the endpoint and attempts again, now, every delivery created since `since` whose latest attempt failed; returns how many. */
  recoverDeliveries(endpoint: string, since: number, now: number): Promise<number>;
  endpointState(endpoint: string): Promise<EndpointState>;

  /** The endpoints registered through the API: id → definition (JSON). */
  listEndpoints(): Promise<Record<string, string>>;
  saveEndpoint(id: string, definition: string): Promise<void>;
  /** Forgets the endpoint, its schedule, state and delivery list (deliveries expire with their TTL). */
  deleteEndpoint(id: string): Promise<void>;
}

/** waitingEvents looks into at most this many outboxes (a scrape stays cheap with many accounts). */
export const OUTBOXES_COUNTED = 1000;

/** A delivery's id: the event's and the endpoint's, so a fan-out that runs twice makes the same one. */
export const deliveryId = (event: string, endpoint: string): string => `${event}.${endpoint}`;

/** The endpoint of a delivery id, or null for anything else. */
export function endpointOfDelivery(id: string): string | null {
  const match = /^evt_[0-9a-f]{28}\.(ep_[A-Za-z0-9_]{1,48})$/.exec(id);
  return match ? match[1] : null;
}

/** Endpoint ids appear in keys: `ep_` and letters, digits, `_`. */
export function checkEndpointId(id: string): void {
  if (!/^ep_[A-Za-z0-9_]{1,48}$/.test(id)) throw new TypeError(`endpoint id must match ep_[A-Za-z0-9_]{1,48}, got "${id}"`);
}

/** How a stored delivery is flattened into string fields (and back): one place for both stores. */
export function deliveryFields(d: NewDelivery): Fields {
  return {
    id: d.id,
    endpoint: d.endpoint,
    event: d.event,
    type: d.type,
    account: d.account ?? '',
    subject: d.subject,
    body: d.body,
    createdAt: String(d.createdAt),
  };
}

export function deliveryFromFields(f: Fields, dueAt: number | null): StoredDelivery {
  return {
    id: f.id,
    endpoint: f.endpoint,
    event: f.event,
    type: f.type,
    account: f.account || null,
    subject: f.subject,
    body: f.body,
    createdAt: Number(f.createdAt),
    state: f.state as DeliveryState,
    attempts: Number(f.attempts ?? 0),
    dueAt,
    inOrder: f.inOrder === '1',
    givenUp: f.givenUp === '1',
    ...(f.lastAttempt ? { lastAttempt: JSON.parse(f.lastAttempt) as DeliveryAttempt } : {}),
  };
}
