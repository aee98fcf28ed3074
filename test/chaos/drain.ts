import { metricSample } from '../helpers/metrics-text';
import type { Receiver } from '../outbound/receiver';
import type { BusinessClient } from './business-client';
import { TERMINAL, type Accepted } from './check';
import { TERMINAL_EVENTS } from './check-webhooks';
import { pool, sleep } from './run';
import type { Crowd } from './users';
import { keyOf } from './users';

export interface Drained {
  rounds: number;
  /** Texts from users who still had parked notices. */
  texts: number;
  /** Notices still not terminal when the time ran out. */
  pending: Accepted[];
}

/**
 * After the faults: reads every notice's status (into `final`) until all are terminal or
 * `budgetMs` has passed; each round, the users with a parked notice come back to collect it.
 */
export async function drain(accepted: Accepted[], client: BusinessClient, crowd: Crowd, budgetMs: number): Promise<Drained> {
  const deadline = Date.now() + budgetMs;
  let pending = accepted;
  let rounds = 0;
  let texts = 0;
  for (;;) {
    rounds += 1;
    await pool(pending, 32, async (n) => {
      n.final = await client.view(n.id);
    });
    pending = pending.filter((n) => !TERMINAL.has(n.final?.status ?? ''));
    if (pending.length === 0 || Date.now() > deadline) break;
    const parked = new Map(pending.filter((n) => n.final?.status === 'awaiting_interaction').map((n) => crowd.get(n.account, n.openid)).map((r) => [keyOf(r), r]));
    await pool([...parked.values()], 16, async (r) => {
      await r.control.userSendsText(r.openid, 'anything for me?');
      texts += 1;
    });
    await sleep(parked.size > 0 ? 200 : 500);
  }
  return { rounds, texts, pending };
}

export interface WebhooksDrained {
  ms: number;
  /** Terminal notices without an accepted terminal event when the time ran out. */
  missing: string[];
  /** What wxreach still had to deliver then ('' when nothing). */
  waiting: string;
}

/** How many deliveries of `endpoint` the API lists in `status`, page by page. */
async function listed(client: BusinessClient, endpoint: string, status: 'pending' | 'failed'): Promise<number> {
  let count = 0;
  let after: string | null = null;
  do {
    const query: string = `endpoint=${endpoint}&status=${status}&limit=100${after ? `&after=${after}` : ''}`;
    const res = await client.call('GET', `/v1/webhook-deliveries?${query}`);
    if (res.status !== 200) throw new Error(`GET /v1/webhook-deliveries?${query}: ${res.status} ${JSON.stringify(res.body)}`);
    count += (res.body.deliveries as unknown[]).length;
    after = res.body.next as string | null;
  } while (after);
  return count;
}

/**
 * After `drain`: waits until every terminal notice has an accepted terminal event at the receiver,
 * then until wxreach has nothing left to deliver (no event waiting in an outbox and no delivery on
 * the endpoint's schedule, from /metrics at `metricsUrl`; none pending or failed as GET
 * /v1/webhook-deliveries lists them), or `budgetMs` has passed. Once nothing is left, no further
 * request can come: a delivery attempted again is on the schedule until its answer is recorded.
 */
export async function drainWebhooks(
  accepted: readonly Accepted[],
  receiver: Receiver,
  client: BusinessClient,
  metricsUrl: string,
  endpoint: string,
  budgetMs: number,
): Promise<WebhooksDrained> {
  const t0 = Date.now();
  const deadline = t0 + budgetMs;
  const terminal = accepted.filter((n) => TERMINAL.has(n.final?.status ?? ''));
  let missing: string[] = terminal.map((n) => n.id);
  let waiting = 'not looked at';
  for (;;) {
    const done = new Set(receiver.accepted().flatMap((r) => (TERMINAL_EVENTS.has(r.type) ? [String(r.payload?.data.id)] : [])));
    missing = missing.filter((id) => !done.has(id));
    if (missing.length === 0) {
      const text = await (await fetch(`${metricsUrl}/metrics`)).text();
      const events = metricSample(text, 'wxreach_webhook_events_waiting');
      const scheduled = metricSample(text, 'wxreach_webhook_deliveries_scheduled');
      waiting = `${events} events in the outboxes, ${scheduled} deliveries on the schedule`;
      if (events + scheduled === 0) {
        const pending = await listed(client, endpoint, 'pending');
        const failed = await listed(client, endpoint, 'failed');
        if (pending + failed === 0) return { ms: Date.now() - t0, missing, waiting: '' };
        waiting = `${pending} deliveries pending, ${failed} failed (listed)`;
      }
    }
    if (Date.now() > deadline) return { ms: Date.now() - t0, missing, waiting };
    await sleep(250);
  }
}
