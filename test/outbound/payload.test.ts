import { MAX_PAYLOAD_BYTES, payloadOf } from '../../src/outbound/payload';
import type { HistoryEntry } from '../../src/store/store';
import type { OutboxEvent } from '../../src/store/webhook-store';

const ID = 'n0312345678901234567890ab.wx5a7b9c1d3e5f7a9b';
const line = (i: number, detail = `step ${i}`): HistoryEntry => ({ at: new Date(1_800_000_000_000 + i).toISOString(), status: 'queued', detail });

const event = (history: HistoryEntry[], fields: Record<string, string> = {}): OutboxEvent => ({
  id: 'evt_1',
  type: 'notification.fallback_sent',
  at: 1_800_000_000_000,
  account: 'wx5a7b9c1d3e5f7a9b',
  subject: ID,
  entry: '1',
  record: { fields: { status: 'fallback_sent', openid: 'oU1', template: 'order_paid', channel: 'customer_service', text: 'Your order A1 is paid.', client: 'c0ffee', ...fields }, history },
});

describe('webhook payloads', () => {
  it("is the notice's GET view at the event, under its type and time, without the owner", () => {
    const body = JSON.parse(payloadOf(event([line(0, 'accepted'), line(1, 'customer-service text accepted')])));
    expect(body).toEqual({
      type: 'notification.fallback_sent',
      timestamp: '2027-01-15T08:00:00.000Z',
      data: {
        id: ID,
        account: 'wx5a7b9c1d3e5f7a9b',
        status: 'fallback_sent',
        openid: 'oU1',
        template: 'order_paid',
        channel: 'customer_service',
        text: 'Your order A1 is paid.',
        history: [line(0, 'accepted'), line(1, 'customer-service text accepted')],
      },
    });
  });

  it('stays under 20 KiB: a long history loses its oldest lines after the first, and says so', () => {
    const history = Array.from({ length: 400 }, (_, i) => line(i, `step ${i}: ${'x'.repeat(100)}`));
    const body = payloadOf(event(history, { text: '长'.repeat(680) }));
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    const kept = (JSON.parse(body) as { data: { history: HistoryEntry[] } }).data.history;
    expect(kept[0]).toEqual(history[0]);
    expect(kept[1].detail).toMatch(/^\d+ older history lines left out/);
    expect(kept.at(-1)).toEqual(history.at(-1));
    expect(kept.slice(2)).toEqual(history.slice(history.length - kept.length + 2));
  });

  it('carries the data of other events as they were recorded', () => {
    const body = payloadOf({ id: 'evt_2', type: 'template.invalid', at: 0, account: 'wx1', subject: 'template:T', entry: '2', data: '{"templateId":"T","valid":false}' });
    expect(JSON.parse(body)).toEqual({ type: 'template.invalid', timestamp: '1970-01-01T00:00:00.000Z', data: { templateId: 'T', valid: false } });
  });
});
