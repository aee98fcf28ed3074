import { fromFields } from '../delivery/notification';
import { notificationView } from '../http/notification-view';
import type { OutboxEvent } from '../store/webhook-store';

/** A webhook body stays under this size. */
export const MAX_PAYLOAD_BYTES = 20 * 1024;

const size = (body: string) => Buffer.byteLength(body, 'utf8');

/**
 * The request body of an event: `{ type, timestamp, data }`. A notice's `data` is its GET view as
 * the move left it (the event keeps the record's fields and history from the same atomic step, so
 * later moves do not change what an earlier event says). Under MAX_PAYLOAD_BYTES: a history too
 * long loses its oldest lines after the first, which is said in a line of its own.
 */
export function payloadOf(event: OutboxEvent): string {
  const envelope = (data: unknown) => JSON.stringify({ type: event.type, timestamp: new Date(event.at).toISOString(), data });
  if (!event.record) return envelope(JSON.parse(event.data ?? 'null') as unknown);
  const view = notificationView(fromFields(event.subject, event.account ?? '', event.record.fields, event.record.history));
  const history = event.record.history;
  let body = envelope(view);
  for (let dropped = 1; size(body) > MAX_PAYLOAD_BYTES && dropped < history.length - 1; dropped++) {
    const gap = { at: history[dropped].at, status: history[dropped].status, detail: `${dropped} older history lines left out (GET the notification for all)` };
    body = envelope({ ...view, history: [history[0], gap, ...history.slice(dropped + 1)] });
  }
  return body;
}

/** Who may see a notice's event: the API client that created it (absent: created before owners were kept, every client). */
export const clientOf = (event: OutboxEvent): string | undefined => event.record?.fields.client;
