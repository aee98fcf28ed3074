import { createHash } from 'node:crypto';
import type { Logger } from '../log/logger';
import type { AccountMetrics } from '../metrics/metrics';
import type { Tally } from '../store/counter-buckets';
import type { AccountStore, HistoryEntry, NewRecord, StoredRecord } from '../store/store';
import { fieldsBesideData, fromFields, type Notification, type NotificationRequest } from './notification';
import type { Status } from './lifecycle';
import { searchTerms } from './search-terms';
import { settledValue, type Settled } from '../settled';
import { TickBatch } from '../tick-batch';
import type { TemplateRegistry } from './template-registry';

export class UnknownTemplateError extends Error {
  constructor(readonly template: string) {
    super(`unknown template "${template}": use a name from the config's "templates" or a template id of the account`);
    this.name = 'UnknownTemplateError';
  }
}

export class IdempotencyConflictError extends Error {
  constructor(readonly existingId: string) {
    super('this Idempotency-Key was already used with a different body');
    this.name = 'IdempotencyConflictError';
  }
}

export interface AcceptResult {
  id: string;
  status: Status;
  /** True when the Idempotency-Key was seen before with the same body. */
  replayed: boolean;
}

/** A request to accept for API client `client`, with its Idempotency-Key (that client's own) if any. */
export interface AcceptRequest {
  request: NotificationRequest;
  client: string;
  idempotencyKey?: string;
}

/** Stable JSON (sorted keys) so the same body always has the same fingerprint. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The notification records: accepting a request (template known, idempotency) and reading a
 * notice back. Every later change is a move of the lifecycle (lifecycle.ts).
 */
export class Notifications {
  /** Single requests gathered (see acceptAll), stored as one call. */
  private readonly singles = new TickBatch(
    (calls: Array<readonly AcceptRequest[]>) => {
      const stored = this.storeAll(calls.flat());
      return calls.map((_, i) => stored.then((outcomes) => [outcomes[i]]));
    },
    { inFlight: 1 },
  );

  constructor(
    private readonly store: AccountStore,
    private readonly templates: TemplateRegistry,
    private readonly log: Logger,
    private readonly retentionSeconds: number,
    /** How long the statistics' counters are kept. */
    private readonly statsKeepSeconds: number,
    private readonly metrics: Pick<AccountMetrics, 'statusChanged'>,
    /** The data fields a notice is found by (see NoticeSearch). */
    private readonly searchFields: readonly string[],
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a request of API client `client`; an Idempotency-Key is that client's own. */
  async accept(request: NotificationRequest, client: string, idempotencyKey?: string): Promise<AcceptResult> {
    const [outcome] = await this.acceptAll([{ request, client, idempotencyKey }]);
    return settledValue(outcome);
  }

  /**
   * `accept` for many requests at once, with fewer store calls than requests
   * (AccountStore.createMany): what each came to, in order, as its own `accept` would have (a
   * request sees the idempotency keys of those before it). Throws only when none could be stored
   * (the templates could not be read). Single requests are stored together: those of one turn
   * of the event loop, or that come while the last such store call is out, go as one (many
   * clients' single calls at once cost one store call per shard, as a batch does).
   */
  acceptAll(requests: readonly AcceptRequest[]): Promise<Settled<AcceptResult>[]> {
    return requests.length === 1 ? this.singles.add(requests) : this.storeAll(requests);
  }

  private async storeAll(requests: readonly AcceptRequest[]): Promise<Settled<AcceptResult>[]> {
    const templates = [...new Set(requests.map((r) => r.request.template))];
    const resolved = await Promise.all(templates.map((t) => this.templates.resolve(t)));
    const known = new Set(templates.filter((_, i) => resolved[i] !== null));
    const now = this.now();
    // one entry for all: the store encodes it once
    const history: HistoryEntry = { at: new Date(now).toISOString(), status: 'queued', detail: 'accepted' };
    // one tally per template: the records of a template count the same
    const tallies = new Map<string, Tally<string>>();
    const tallyOf = (template: string): Tally<string> => {
      let tally = tallies.get(template);
      if (tally === undefined) tallies.set(template, (tally = { at: now, subject: template, counters: ['accepted'], keepSeconds: this.statsKeepSeconds }));
      return tally;
    };
    const outcomes: Settled<AcceptResult>[] = new Array(requests.length);
    const records: NewRecord[] = [];
    const members: number[] = [];
    requests.forEach(({ request, client, idempotencyKey }, i) => {
      if (!known.has(request.template)) return (outcomes[i] = { status: 'rejected', reason: new UnknownTemplateError(request.template) });
      const id = this.store.newId(request.openid);
      // only a request with a key is ever compared with another
      const fingerprint = idempotencyKey === undefined ? '' : createHash('sha256').update(canonical(request)).digest('hex');
      // the new notice as one literal that takes the request's fields: `{ ...request, id, … }` costs
      // V8 a new hidden class per notice (microseconds each, and garbage)
      const notice = Object.assign({ id, client, status: 'queued' as const, attempts: 0, csAttempts: 0, createdAt: now }, request);
      records.push({
        id,
        fields: fieldsBesideData(notice),
        data: notice.data,
        history,
        options: {
          ttlSeconds: this.retentionSeconds,
          dueAt: now,
          idempotency: idempotencyKey === undefined ? undefined : { key: `${client}:${idempotencyKey}`, fingerprint },
          index: { terms: searchTerms(request, this.searchFields), at: now },
          tally: tallyOf(request.template),
        },
      });
      members.push(i);
    });
    const created = await this.store.createMany(records);
    members.forEach((i, j) => {
      const result = created[j];
      if (result.status === 'rejected') return (outcomes[i] = result);
      if (!result.value.created) {
        const { existingId, fingerprint } = result.value;
        outcomes[i] =
          fingerprint === records[j].options.idempotency?.fingerprint
            ? { status: 'fulfilled', value: { id: existingId, status: 'queued', replayed: true } }
            : { status: 'rejected', reason: new IdempotencyConflictError(existingId) };
        return;
      }
      const { id } = records[j];
      const { request } = requests[i];
      this.log.info('notification accepted', { id, openid: request.openid, template: request.template });
      this.metrics.statusChanged('queued');
      outcomes[i] = { status: 'fulfilled', value: { id, status: 'queued', replayed: false } };
    });
    return outcomes;
  }

  /**
   * The notification, or null when there is none; with `creators`, also null when another client
   * created it (so a client cannot even learn that it exists). One created before owners were
   * recorded is shown to every client, as it was then: it expires with the retention period.
   */
  async get(id: string, creators?: readonly string[]): Promise<Notification | null> {
    const record = await this.store.get(id);
    if (!record) return null;
    const n = this.fromRecord(id, record);
    return creators === undefined || n.client === undefined || creators.includes(n.client) ? n : null;
  }

  /** The notice of a record read already (of this account). */
  fromRecord(id: string, record: StoredRecord): Notification {
    return fromFields(id, this.store.account, record.fields, record.history);
  }
}
