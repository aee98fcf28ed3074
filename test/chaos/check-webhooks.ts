import type { Received } from '../outbound/receiver';
import { TERMINAL, type Accepted, type Problem } from './check';
import type { WebhooksDrained } from './drain';

/** What the receiver got, joined with the notices' final statuses. */
export interface WebhookReport {
  requests: number;
  /** Distinct webhook-ids accepted, by event type. */
  events: Record<string, number>;
  /** Webhook-ids accepted more than once (an instance died before it recorded the answer). */
  acceptedTwice: number;
  /** Webhook-ids whose first attempt was refused or cut, accepted later. */
  retriedThenAccepted: number;
  problems: Problem[];
}

/** `notification.delivered`, `notification.fallback_sent`, `notification.failed`. */
export const TERMINAL_EVENTS: ReadonlySet<string> = new Set([...TERMINAL].map((s) => `notification.${s}`));
const PARKED = 'awaiting_interaction';

/** One event as the receiver accepted it: its webhook-id, payload and when it was first accepted. */
interface AcceptedEvent {
  id: string;
  type: string;
  data: Record<string, unknown> & { history?: unknown[] };
  first: number;
}

/** The times the history shows the notice arriving in `awaiting_interaction` (each is an event). */
const parkings = (history: ReadonlyArray<{ status: string }>) => history.filter((h, i) => h.status === PARKED && history[i - 1]?.status !== PARKED).length;

/**
 * The webhook promises, from everything the receiver got: every request verified; every event
 * accepted in the end; every terminal notice has exactly one accepted terminal event (more
 * acceptances only with the same webhook-id and body) whose data shows the final status, and one
 * `awaiting_interaction` event per time it was parked; a notice's events were first accepted in the
 * order of their moves (a longer history each time); no event for a notice nobody accepted.
 */
export function checkWebhooks(accepted: readonly Accepted[], requests: readonly Received[]): WebhookReport {
  const problems: Problem[] = [];
  const report: WebhookReport = { requests: requests.length, events: {}, acceptedTwice: 0, retriedThenAccepted: 0, problems };
  const notices = new Map(accepted.map((a) => [a.id, a]));
  const say = (kind: string, id: string, detail: string) => problems.push({ kind, seq: notices.get(id)?.seq ?? '?', id, detail });

  const byWebhookId = new Map<string, Array<{ r: Received; at: number }>>();
  requests.forEach((r, at) => byWebhookId.set(r.id, [...(byWebhookId.get(r.id) ?? []), { r, at }]));
  const eventsOf = new Map<string, AcceptedEvent[]>();
  for (const [id, attempts] of byWebhookId) {
    const unverified = attempts.filter(({ r }) => !r.verified);
    if (unverified.length > 0) say('unverified request', '?', `webhook-id ${id}: ${unverified.length} requests the standardwebhooks package refused`);
    if (new Set(attempts.map(({ r }) => r.body)).size > 1) say('retry with another body', '?', `webhook-id ${id}`);
    const ok = attempts.filter(({ r }) => typeof r.answered === 'number' && r.answered < 300);
    if (ok.length === 0) {
      say('never accepted', '?', `webhook-id ${id} (${attempts[0].r.type}): answered ${attempts.map(({ r }) => r.answered).join(', ')}`);
      continue;
    }
    if (ok.length > 1) report.acceptedTwice += 1;
    if (ok[0].at !== attempts[0].at) report.retriedThenAccepted += 1;
    const { r, at } = ok[0];
    if (!r.payload) continue;
    report.events[r.type] = (report.events[r.type] ?? 0) + 1;
    if (!r.type.startsWith('notification.')) continue;
    const notice = String(r.payload.data.id);
    if (!notices.has(notice)) {
      say('event for an unknown notice', notice, `${r.type} webhook-id ${id}`);
      continue;
    }
    eventsOf.set(notice, [...(eventsOf.get(notice) ?? []), { id, type: r.type, data: r.payload.data, first: at }]);
  }

  for (const n of accepted) {
    const final = n.final;
    if (!final || !TERMINAL.has(final.status)) continue;
    const events = (eventsOf.get(n.id) ?? []).sort((a, b) => a.first - b.first);
    const seen = events.map((e) => `${e.type}@${e.data.history?.length}`).join(', ');
    const terminal = events.filter((e) => TERMINAL_EVENTS.has(e.type));
    if (terminal.length !== 1) {
      say(terminal.length === 0 ? 'lost terminal event' : 'doubled terminal event', n.id, `final ${final.status}; accepted: ${seen}`);
    } else {
      const [{ type, data }] = terminal;
      const history = data.history ?? [];
      const same =
        type === `notification.${final.status}` &&
        data.status === final.status &&
        data.channel === final.channel &&
        data.reason === final.reason &&
        JSON.stringify(history) === JSON.stringify(final.history.slice(0, history.length));
      if (!same) say('terminal event differs from the notice', n.id, `${type} ${JSON.stringify(data).slice(0, 600)}; final ${JSON.stringify(final).slice(0, 600)}`);
    }
    const parked = events.filter((e) => e.type === `notification.${PARKED}`).length;
    if (parked !== parkings(final.history)) say('awaiting_interaction events', n.id, `${parked} accepted, parked ${parkings(final.history)} times; accepted: ${seen}`);
    const lengths = events.map((e) => e.data.history?.length ?? 0);
    if (lengths.some((len, i) => i > 0 && len <= lengths[i - 1])) say('out of order', n.id, `first accepted in this order: ${seen}`);
  }
  return report;
}

type ReceiverFaults = { refused: number; reset: number };

export function formatWebhookReport(r: WebhookReport, faults: ReceiverFaults, hooked: WebhooksDrained): string {
  const drain = `${hooked.ms} ms after the notices${hooked.missing.length ? `; still no terminal event for ${hooked.missing.length}` : ''}${hooked.waiting ? `; left: ${hooked.waiting}` : ''}`;
  return [
    '── chaos: status webhooks ──',
    `requests at the receiver: ${r.requests}; first attempts refused (500): ${faults.refused}; connections reset: ${faults.reset}`,
    `events accepted, by type: ${JSON.stringify(r.events)}`,
    `webhook-ids refused or cut first, accepted later: ${r.retriedThenAccepted}; accepted twice (same webhook-id): ${r.acceptedTwice}`,
    `drain: ${drain}`,
    `problems: ${r.problems.length}`,
    ...r.problems.slice(0, 30).map((p) => `  [${p.kind}] ${p.seq} ${p.id}: ${p.detail}`.slice(0, 2000)),
  ].join('\n');
}

/** What both chaos runs hold the status webhooks to: the receiver's faults fired, and every event came through once accepted. */
export function expectWebhooksHeld(r: WebhookReport, faults: ReceiverFaults, hooked: WebhooksDrained): void {
  expect(faults.reset).toBe(1);
  expect(faults.refused).toBeGreaterThan(0);
  expect(r.retriedThenAccepted).toBe(faults.refused + faults.reset);
  expect(r.events['notification.awaiting_interaction']).toBeGreaterThan(0);
  expect([hooked.missing, hooked.waiting]).toEqual([[], '']);
  expect(r.problems.map((p) => `[${p.kind}] ${p.seq} ${p.id}: ${p.detail}`)).toEqual([]);
}
