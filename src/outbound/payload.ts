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
  const whole = envelope(view);
  // (a view is this big only by its history: the text is at most 2048 bytes)
  if (size(whole) <= MAX_PAYLOAD_BYTES || history.length < 3) return whole;
  // lines 1..dropped give way to one line saying so: drop until the rest fits (each line's size with its comma)
  const lineSizes = history.map((e) => size(JSON.stringify(e)) + 1);
  let excess = size(whole) - MAX_PAYLOAD_BYTES + 200; // room for the line that says so
  let dropped = 0;
  while (excess > 0 && dropped < history.length - 2) excess -= lineSizes[++dropped];
  for (; ; dropped++) {
    const gap = { at: history[dropped].at, status: history[dropped].status, detail: `${dropped} older history lines left out (GET the notification for all)` };
    const body = envelope({ ...view, history: [history[0], gap, ...history.slice(dropped + 1)] });
    if (size(body) <= MAX_PAYLOAD_BYTES || dropped >= history.length - 2) return body;
  }
}

/** Who may see a notice's event: the API client that created it (absent: created before owners were kept, every client). */
export const clientOf = (event: OutboxEvent): string | undefined => event.record?.fields.client;
