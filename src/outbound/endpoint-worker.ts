import { WakeablePause } from '../wakeable-pause';
import type { Logger } from '../log/logger';
import type { Metrics, WebhookOutcome } from '../metrics/metrics';
import type { EndpointState, StoredDelivery, WebhookStore } from '../store/webhook-store';
import type { Endpoint } from './endpoints';
import { FAILING_LIMIT_MS, retryAt } from './retry-schedule';
import { CONNECTIONS_PER_ENDPOINT, type WebhookSender } from './sender';

/** A delivery is leased this long to the instance attempting it: the attempt's 15 s and then some. */
const LEASE_MS = 30_000;
/** A disabled endpoint's state is looked at again after this long. */
const STATE_CHECK_MS = 1000;

export interface EndpointWorkerDeps {
  store: WebhookStore;
  sender: WebhookSender;
  log: Logger;
  metrics: Pick<Metrics, 'webhookAttempt'>;
  now: () => number;
  /** Sleep between looks at an endpoint with nothing due (a new delivery wakes it at once). */
  idleMs: number;
  /** The attempt disabled the endpoint. */
  disabled(endpoint: Endpoint, state: EndpointState): void;
}

/**
 * Delivers one endpoint's deliveries, at most CONNECTIONS_PER_ENDPOINT at once in this instance,
 * each claimed with a lease (another instance takes it again if this one dies mid-attempt, with the
 * same webhook-id). One worker per endpoint, with its own connections: a slow or dead endpoint
 * holds up only its own deliveries.
 */
export class EndpointWorker {
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly pauses = new WakeablePause();
  private state: { at: number; disabled: boolean } | null = null;
  /** Ends the attempts still in flight when stopping takes too long. */
  private readonly cancel = new AbortController();

  constructor(
    private readonly endpoint: Endpoint,
    private readonly deps: EndpointWorkerDeps,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Something may be due now. */
  poke(): void {
    this.state = null;
    this.pauses.wake();
  }

  /**
   * Stops claiming and waits for the attempts in flight, for up to `graceMs`; the ones still going
   * then are cancelled and not recorded: their lease runs out and any instance attempts them again.
   */
  async stop(graceMs: number): Promise<void> {
    this.running = false;
    this.poke();
    await this.loop;
    const settled = Promise.all([...this.inFlight]);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([settled, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    this.cancel.abort();
    await settled;
  }

  private async disabled(): Promise<boolean> {
    if (this.state && Date.now() - this.state.at < STATE_CHECK_MS) return this.state.disabled;
    const { disabledAt } = await this.deps.store.endpointState(this.endpoint.id);
    this.state = { at: Date.now(), disabled: disabledAt !== null };
    return this.state.disabled;
  }

  private async run(): Promise<void> {
    const { store, log, now, idleMs } = this.deps;
    while (this.running) {
      const room = CONNECTIONS_PER_ENDPOINT - this.inFlight.size;
      try {
        if (room <= 0 || (await this.disabled())) {
          await this.pauses.pause(room <= 0 ? idleMs : STATE_CHECK_MS);
          continue;
        }
        const at = now();
        const { deliveries, nextDueAt } = await store.claimDeliveries(this.endpoint.id, at, LEASE_MS, room);
        for (const delivery of deliveries) this.attempt(delivery);
        if (deliveries.length === 0) await this.pauses.pause(nextDueAt === null ? idleMs : Math.min(idleMs, nextDueAt - at));
      } catch (err) {
        log.error('cannot claim webhook deliveries; retrying', { endpoint: this.endpoint.id, err });
        await this.pauses.pause(idleMs * 10);
      }
    }
  }

  private attempt(delivery: StoredDelivery): void {
    const { log } = this.deps;
    const done = this.deliver(delivery)
      .catch((err) => log.error('webhook attempt not recorded; it is attempted again when its lease ends', { delivery: delivery.id, err }))
      .finally(() => {
        this.inFlight.delete(done);
        this.pauses.wake();
      });
    this.inFlight.add(done);
  }

  private async deliver(delivery: StoredDelivery): Promise<void> {
    const { store, sender, log, metrics, now } = this.deps;
    const result = await sender.send(this.endpoint, delivery.event, delivery.body, this.cancel.signal);
    if (this.cancel.signal.aborted) return;
    const at = now();
    const succeeded = result.error === undefined;
    const next = succeeded ? null : retryAt(delivery.attempts + 1, at);
    // as the store settles it: a failure is final without a retry time, or for a resend outside its order
    const outcome: WebhookOutcome = succeeded ? 'succeeded' : next === null || !delivery.inOrder ? 'gave_up' : 'failed';
    metrics.webhookAttempt(outcome, delivery.type, result.ms / 1000);
    const { disabled } = await store.settleDelivery(delivery, {
      attempt: { at, ...result },
      succeeded,
      retryAt: next,
      disable: result.status === 410 ? 'gone' : undefined,
      failingLimitMs: FAILING_LIMIT_MS,
    });
    const meta = { endpoint: this.endpoint.id, delivery: delivery.id, type: delivery.type, attempt: delivery.attempts + 1, status: result.status, ms: result.ms };
    if (succeeded) log.info('webhook delivered', meta);
    else log.warn('webhook attempt failed', { ...meta, error: result.error });
    if (disabled) {
      this.state = { at: Date.now(), disabled: true };
      this.deps.disabled(this.endpoint, disabled);
    }
  }
}
