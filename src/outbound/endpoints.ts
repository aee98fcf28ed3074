import { createHash, randomBytes } from 'node:crypto';
import type { WebhookStore } from '../store/webhook-store';
import type { WebhookEventType } from './event-types';

/** Where events go, and which ones. */
export interface Endpoint {
  id: string;
  url: string;
  secret: string;
  /** The types it gets; null: every type. */
  events: readonly WebhookEventType[] | null;
  /** The accounts whose events it gets; null: every account. */
  accounts: readonly string[] | null;
  /** The API client that registered it (it sees only that client's notices); null for one from the config. */
  owner: string | null;
  createdAt: number;
  description?: string;
}

/** An endpoint from the config: its id follows from its URL, so it is the same in every instance and across restarts. */
export function configEndpoint(e: { url: string; secret: string; events?: readonly WebhookEventType[]; accounts?: readonly string[] }): Endpoint {
  const id = `ep_cfg_${createHash('sha256').update(e.url).digest('hex').slice(0, 20)}`;
  return { id, url: e.url, secret: e.secret, events: e.events ?? null, accounts: e.accounts ?? null, owner: null, createdAt: 0 };
}

export const newEndpointId = (): string => `ep_${randomBytes(12).toString('hex')}`;

/** What an event needs to be matched against endpoints. */
export interface EventAudience {
  type: string;
  /** The account it concerns (null: the deployment's own). */
  account: string | null;
  /** A notice's event: the client that created the notice (absent: every client). */
  client?: string;
  /** Only endpoints of this owner and the config's (an endpoint's own events); undefined: no such limit. */
  owner?: string | null;
  /** Never this endpoint (the one an event is about). */
  except?: string;
}

/** Whether `endpoint` gets an event. */
export function wants(endpoint: Endpoint, audience: EventAudience): boolean {
  if (endpoint.id === audience.except) return false;
  if (endpoint.events && !(endpoint.events as readonly string[]).includes(audience.type)) return false;
  if (audience.account !== null && endpoint.accounts && !endpoint.accounts.includes(audience.account)) return false;
  if (endpoint.owner === null) return true;
  if (audience.owner !== undefined && audience.owner !== endpoint.owner) return false;
  return audience.client === undefined || audience.client === endpoint.owner;
}

/**
 * How often an instance re-reads the endpoints registered through the API. A read counts its age
 * from before it is sent, so ENDPOINTS_REFRESH_MS after a registration is answered, every instance's
 * answers come from a read that sees it.
 */
export const ENDPOINTS_REFRESH_MS = 1000;

/** The endpoints: the config's, and those registered through the API (in the store, shared by every instance). */
export class EndpointRegistry {
  /** The last read kept, with mayWant's answers from it (so a move asks the endpoints once per type and account a second). */
  private cache: { at: number; endpoints: Endpoint[]; answers: Map<string, boolean> } | null = null;
  /** The store read under way, shared by the callers meanwhile; a change made here lets go of it (`changed`). */
  private reading: Promise<Endpoint[]> | null = null;

  constructor(
    private readonly store: Pick<WebhookStore, 'listEndpoints' | 'saveEndpoint' | 'deleteEndpoint'>,
    private readonly fromConfig: readonly Endpoint[],
  ) {}

  /** Every endpoint (read from the store at most once a second). */
  async all(): Promise<Endpoint[]> {
    const fresh = this.fresh();
    if (fresh) return fresh.endpoints;
    this.reading ??= this.read();
    return this.reading;
  }

  /**
   * Whether some endpoint may want an event of `type` about `account` (of any client's notice),
   * answered at once, so a move can leave out an event nobody would get. Only a read younger than
   * ENDPOINTS_REFRESH_MS answers no: before it, or once it is older (it is being read again
   * meanwhile), the answer is yes. So an endpoint registered on any instance gets the events of
   * every move from ENDPOINTS_REFRESH_MS after its registration was answered on, which is also when
   * every instance's fan-out hands events to it (the webhooks' loop reads every second or so).
   */
  mayWant(type: string, account: string): boolean {
    const fresh = this.fresh();
    if (!fresh) {
      void this.all().catch(() => undefined); // the store away: yes until it is back
      return true;
    }
    const key = `${type} ${account}`;
    let answer = fresh.answers.get(key);
    if (answer === undefined) fresh.answers.set(key, (answer = fresh.endpoints.some((e) => wants(e, { type, account }))));
    return answer;
  }

  /** The read younger than ENDPOINTS_REFRESH_MS, or null. */
  private fresh() {
    return this.cache !== null && Date.now() - this.cache.at < ENDPOINTS_REFRESH_MS ? this.cache : null;
  }

  /** A store read, kept unless a change made here let go of it meanwhile (it may predate the change). */
  private read(): Promise<Endpoint[]> {
    // its age counts from before it, as what it reads may be that old
    const at = Date.now();
    const reading: Promise<Endpoint[]> = this.store
      .listEndpoints()
      .then((stored) => {
        const endpoints = [...this.fromConfig, ...Object.values(stored).map((json) => JSON.parse(json) as Endpoint).sort((a, b) => a.createdAt - b.createdAt)];
        if (this.reading === reading) this.cache = { at, endpoints, answers: new Map() };
        return endpoints;
      })
      .finally(() => {
        if (this.reading === reading) this.reading = null;
      });
    return reading;
  }

  /** After a change made here: the next question reads the store again. */
  private changed(): void {
    this.cache = null;
    this.reading = null;
  }

  async get(id: string): Promise<Endpoint | null> {
    return (await this.all()).find((e) => e.id === id) ?? null;
  }

  async save(endpoint: Endpoint): Promise<void> {
    await this.store.saveEndpoint(endpoint.id, JSON.stringify(endpoint));
    this.changed();
  }

  async delete(id: string): Promise<void> {
    await this.store.deleteEndpoint(id);
    this.changed();
  }

  isFromConfig(id: string): boolean {
    return this.fromConfig.some((e) => e.id === id);
  }
}
