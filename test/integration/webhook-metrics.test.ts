import { StoreUnavailableError } from '../../src/store/unavailable';
import { API_KEY, sleep, startHarness, type Harness } from '../helpers/harness';
import { metricSample as sample } from '../helpers/metrics-text';
import { paid } from '../helpers/paid-notice';
import { hookedWebhooks } from '../helpers/store-proxy';
import { startReceiver, testSecret, type Receiver } from '../outbound/receiver';

describe('webhook metrics at /metrics', () => {
  let receiver: Receiver;
  let h: Harness;
  let offset = 0;
  /** While set, the fan-out cannot read the outboxes (as if every instance were down): events wait. */
  let fanOutDown = false;
  beforeAll(async () => {
    receiver = await startReceiver(testSecret());
    h = await startHarness({
      now: () => Date.now() + offset,
      config: (c) => ({ ...c, webhooks: { allowPrivate: true, endpoints: [{ url: receiver.url, secret: receiver.secret }] } }),
      wrapStore: (s) =>
        hookedWebhooks(s, (method) => {
          if (fanOutDown && method === 'claimOutbox') throw new StoreUnavailableError('the test keeps the fan-out away');
        }),
    });
  });
  afterAll(async () => {
    await h.close();
    await receiver.close();
  });

  const metrics = async () => (await fetch(`${h.service.url}/metrics`)).text();
  async function until(what: string, check: (text: string) => boolean): Promise<string> {
    for (let i = 0; i < 250; i++) {
      const text = await metrics();
      if (check(text)) return text;
      await sleep(20);
    }
    throw new Error(`timed out waiting for ${what}:\n${(await metrics()).split('\n').filter((l) => l.startsWith('wxreach_webhook')).join('\n')}`);
  }

  it('count attempts by outcome and type, time them, and show the backlog, with no endpoint URL or secret in a label', async () => {
    const type = 'notification.delivered';
    // the first attempt of each event is refused, the next accepted
    receiver.respond(({ count }) => (count === 1 ? 500 : 204));

    fanOutDown = true;
    const id = (await h.enqueue(paid(1))).body.id as string;
    await h.waitFor(id, 'delivered');
    let text = await until('the event waiting in the outbox', (t) => sample(t, 'wxreach_webhook_events_waiting') === 1);
    expect(sample(text, 'wxreach_webhook_deliveries_scheduled')).toBe(0);
    fanOutDown = false;

    // handed on, attempted once, refused: a failure with a retry 5 s later
    text = await until('the refused attempt', (t) => sample(t, 'wxreach_webhook_attempts_total', { outcome: 'failed', type }) === 1);
    expect(sample(text, 'wxreach_webhook_events_waiting')).toBe(0);
    expect(receiver.requests.map((r) => r.answered)).toEqual([500]);
    text = await until('the failed delivery on the schedule', (t) => sample(t, 'wxreach_webhook_deliveries_scheduled') === 1);
    expect(sample(text, 'wxreach_webhook_attempt_seconds_count', { outcome: 'failed' })).toBe(1);
    expect(sample(text, 'wxreach_webhook_attempts_total', { outcome: 'succeeded', type })).toBe(0);

    // the retry (the service's clock moved past it) is accepted: off the schedule
    offset += 5000;
    text = await until('the accepted retry', (t) => sample(t, 'wxreach_webhook_attempts_total', { outcome: 'succeeded', type }) === 1);
    expect(receiver.accepted()).toHaveLength(1);
    expect(sample(text, 'wxreach_webhook_attempt_seconds_count', { outcome: 'succeeded' })).toBe(1);
    expect(sample(text, 'wxreach_webhook_attempt_seconds_bucket', { outcome: 'succeeded', le: '15' })).toBe(1);
    await until('an empty schedule', (t) => sample(t, 'wxreach_webhook_deliveries_scheduled') === 0);

    // a resend by hand that fails is not attempted again: given up
    receiver.respond(() => 503);
    const [delivery] = ((await (await fetch(`${h.service.url}/v1/webhook-deliveries`, { headers: { authorization: `Bearer ${API_KEY}` } })).json()) as { deliveries: Array<{ id: string }> })
      .deliveries;
    const retried = await fetch(`${h.service.url}/v1/webhook-deliveries/${delivery.id}/retry`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}` } });
    expect(retried.status).toBe(202);
    text = await until('the resend given up', (t) => sample(t, 'wxreach_webhook_attempts_total', { outcome: 'gave_up', type }) === 1);
    expect(receiver.requests.map((r) => r.answered)).toEqual([500, 204, 503]);
    expect(sample(text, 'wxreach_webhook_attempts_total', { outcome: 'failed', type })).toBe(1);
    expect(sample(text, 'wxreach_webhook_attempt_seconds_count', { outcome: 'gave_up' })).toBe(1);

    // the labels say what happened, never where: only outcome, type and the histogram's le
    const labelNames = text
      .split('\n')
      .filter((l) => l.startsWith('wxreach_webhook'))
      .flatMap((l) => [...(/\{(.*)\}/.exec(l)?.[1] ?? '').matchAll(/([a-z_]+)="/g)].map((m) => m[1]));
    expect(new Set(labelNames)).toEqual(new Set(['outcome', 'type', 'le']));
    for (const leak of [receiver.url, receiver.secret.slice(6), 'ep_cfg_']) expect(text).not.toContain(leak);
  });
});
