import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What the rest of wxreach reports; the one place that knows Prometheus. */
export interface Metrics {
  statusChanged(status: string, account: string): void;
  pushReceived(kind: string, duplicate: boolean, account: string): void;
  wechatCall(path: string, outcome: 'ok' | 'errcode' | 'transport', seconds: number, errcode?: number): void;
  /** The circuit breaker opened (WeChat unreachable) or closed again. */
  wechatCircuit(open: boolean): void;
  /** A webhook attempt ended (`type`: the event's type; never the endpoint, its URL or secret). */
  webhookAttempt(outcome: WebhookOutcome, type: string, seconds: number): void;
}

/** How a webhook attempt ended: accepted (2xx), failed with another attempt to come, failed for good. */
export type WebhookOutcome = 'succeeded' | 'failed' | 'gave_up';

/** What the gauges read from the store at scrape time (every instance's work, not only this one's). */
export interface MetricsReads {
  schedule(): Promise<{ size: number; nextDueAt: number | null }>;
  /** Webhook events not yet handed on to the endpoints. */
  webhookEventsWaiting(): Promise<number>;
  /** Webhook deliveries on the endpoints' schedules. */
  webhookDeliveriesScheduled(): Promise<number>;
}

/** The same, as one account's delivery reports it (the account label is added for it). */
export interface AccountMetrics {
  statusChanged(status: string): void;
  pushReceived(kind: string, duplicate: boolean): void;
}

export interface MetricsEndpoint extends Metrics {
  contentType: string;
  /** Text exposition; `scheduled` is read at scrape time. */
  render(): Promise<string>;
}

/** Prometheus metrics on a registry of our own (several services in one process keep their counts apart). */
export function createMetrics(reads: MetricsReads, now: () => number = Date.now): MetricsEndpoint {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'wxreach_' });
  const statuses = new Counter({
    name: 'wxreach_status_changes_total',
    help: 'Notifications entering each status (accepted ones enter queued).',
    labelNames: ['status', 'account'],
    registers: [registry],
  });
  const pushes = new Counter({
    name: 'wxreach_pushes_total',
    help: 'Pushes from WeChat by kind (receipt, message, subscribe, …); duplicate re-sends separately.',
    labelNames: ['kind', 'duplicate', 'account'],
    registers: [registry],
  });
  const calls = new Histogram({
    name: 'wxreach_wechat_call_seconds',
    help: 'WeChat API calls by path and outcome.',
    labelNames: ['path', 'outcome', 'errcode'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const lag = new Gauge({
    name: 'wxreach_schedule_lag_seconds',
    help: 'How long the most overdue notification has been due (0 when the work loops keep up), all instances.',
    registers: [registry],
  });
  new Gauge({
    name: 'wxreach_scheduled_notifications',
    help: 'Notifications on the due schedule (not yet terminal), all instances.',
    registers: [registry],
    async collect() {
      const { size, nextDueAt } = await reads.schedule();
      this.set(size);
      lag.set(nextDueAt === null ? 0 : Math.max(0, (now() - nextDueAt) / 1000));
    },
  });
  const circuit = new Gauge({
    name: 'wxreach_wechat_circuit_open',
    help: '1 while this instance takes WeChat to be unreachable and pauses its calls (circuit breaker open), else 0.',
    registers: [registry],
  });
  circuit.set(0);
  const webhookAttempts = new Counter({
    name: 'wxreach_webhook_attempts_total',
    help: 'Webhook delivery attempts of this instance by outcome (succeeded: 2xx; failed: another attempt follows; gave_up: none follows) and event type.',
    labelNames: ['outcome', 'type'],
    registers: [registry],
  });
  const webhookSeconds = new Histogram({
    name: 'wxreach_webhook_attempt_seconds',
    help: 'How long webhook attempts of this instance took, connecting included, by outcome.',
    labelNames: ['outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15],
    registers: [registry],
  });
  new Gauge({
    name: 'wxreach_webhook_events_waiting',
    help: 'Webhook events recorded and not yet handed on to the endpoints (the outbox backlog), all instances.',
    registers: [registry],
    async collect() {
      this.set(await reads.webhookEventsWaiting());
    },
  });
  new Gauge({
    name: 'wxreach_webhook_deliveries_scheduled',
    help: "Webhook deliveries on the endpoints' schedules (due, waiting for a retry or in flight; a notice's later events wait behind them), all instances.",
    registers: [registry],
    async collect() {
      this.set(await reads.webhookDeliveriesScheduled());
    },
  });
  return {
    contentType: registry.contentType,
    render: () => registry.metrics(),
    statusChanged: (status, account) => statuses.inc({ status, account }),
    pushReceived: (kind, duplicate, account) => pushes.inc({ kind, duplicate: String(duplicate), account }),
    wechatCall: (path, outcome, seconds, errcode) => calls.observe({ path, outcome, errcode: errcode === undefined ? '' : String(errcode) }, seconds),
    wechatCircuit: (open) => circuit.set(open ? 1 : 0),
    webhookAttempt: (outcome, type, seconds) => {
      webhookAttempts.inc({ outcome, type });
      webhookSeconds.observe({ outcome }, seconds);
    },
  };
}
