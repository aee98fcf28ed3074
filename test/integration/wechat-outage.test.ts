/**
 * A WeChat outage (every API call answered HTTP 502 or its connection dropped) delays notices; it
 * does not fail them, and it does not send them through customer service. The circuit breaker
 * pauses calls meanwhile and says so in /readyz and /metrics. Against the emulator's fault
 * injection; every test checks that the injected fault really hit calls.
 */
import type { RecordMove, Store } from '../../src/store/store';
import { hookedStore } from '../helpers/store-proxy';
import { calls } from '../helpers/emulator-calls';
import { TEMPLATES, USER, sleep, startHarness, type Harness } from '../helpers/harness';

const OUTAGE = { http5xxRate: 0.5, dropRate: 0.5 };

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function enqueueMany(harness: Harness, count: number, template = 'order_paid'): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const { status, body } = await harness.enqueue({ openid: USER, template, data: { order_no: `A${i}`, amount: '1.00' } });
    expect(status).toBe(202);
    ids.push(body.id as string);
  }
  return ids;
}



describe('a WeChat outage', () => {
  it('delays template sends without failing them or falling back, and they go out when WeChat is back', async () => {
    h = await startHarness();
    h.emulator.control.setFaults(OUTAGE);
    const before = calls(h, '/cgi-bin/message/template/send');
    const ids = await enqueueMany(h, 10);
    await sleep(3000);

    // The fault fired, and the circuit opened: few calls went out for 10 notices over 3 s.
    const during = calls(h, '/cgi-bin/message/template/send') - before;
    expect(during).toBeGreaterThan(0);
    for (const id of ids) expect((await h.get(id)).status).toBe('queued');
    const ready = await fetch(`${h.service.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ wechatCircuit: { state: expect.stringMatching(/open|probing/) } });
    expect(await (await fetch(`${h.service.url}/metrics`)).text()).toMatch(/^wxreach_wechat_circuit_open 1$/m);

    h.emulator.control.setFaults({});
    for (const id of ids) await h.waitFor(id, 'delivered', 20_000);
    const inbox = h.emulator.control.inbox(USER);
    expect(inbox.filter((m) => m.channel === 'template')).toHaveLength(10);
    expect(inbox.filter((m) => m.channel !== 'template')).toHaveLength(0);
    expect(await (await fetch(`${h.service.url}/metrics`)).text()).toMatch(/^wxreach_wechat_circuit_open 0$/m);
    const history = JSON.stringify((await h.get(ids[0])).history);
    expect(history).toContain('waiting for WeChat');
  }, 30_000);

  it('delays the customer-service text too, and sends it once WeChat is back', async () => {
    h = await startHarness();
    h.emulator.control.deleteTemplate(TEMPLATES.order_paid.id);
    await h.service.account().delivery.templates.sync();
    await h.emulator.control.userSendsText(USER, 'hi'); // the window is open
    // Only 502s: a dropped customer-service call may have reached WeChat and would end
    // outcome_unknown (never sent twice), which is right but not what this test is about.
    h.emulator.control.setFaults({ http5xxRate: 1 });
    const before = calls(h, '/cgi-bin/message/custom/send');
    const [id] = await enqueueMany(h, 1);
    await sleep(2500);
    expect(calls(h, '/cgi-bin/message/custom/send') - before).toBeGreaterThan(0);
    expect((await h.get(id)).status).toBe('fallback_pending');
    h.emulator.control.setFaults({});
    await h.waitFor(id, 'fallback_sent', 20_000);
    expect(h.emulator.control.inbox(USER).filter((m) => m.channel === 'customer_service')).toHaveLength(1);
  }, 30_000);

  it('ends a notice failed (wechat_unavailable) when the outage lasts longer than outage.maxWaitSeconds', async () => {
    h = await startHarness({ config: (c) => ({ ...c, outage: { maxWaitSeconds: 2 } }) });
    h.emulator.control.setFaults({ http5xxRate: 1 });
    const before = calls(h, '/cgi-bin/message/template/send');
    const [id] = await enqueueMany(h, 1);
    const n = await h.waitFor(id, 'failed', 15_000);
    expect(n.reason).toBe('wechat_unavailable');
    expect(calls(h, '/cgi-bin/message/template/send') - before).toBeGreaterThan(0);
    expect(h.emulator.control.inbox(USER)).toHaveLength(0);
  }, 30_000);
});

describe('a notice whose step keeps failing for an internal reason', () => {
  it('ends failed (internal_error) with the error in its history instead of looping', async () => {
    // A fault that is not the store being away: every move that records the fallback text throws
    // (a bug, or stored data a script cannot take), on every try.
    let fired = 0;
    const poisoned = (store: Store): Store =>
      hookedStore(store, (method, args, call) => {
        if ((method === 'move' || method === 'park') && (args[1] as RecordMove).set?.text !== undefined) {
          fired += 1;
          return Promise.reject(new Error('ERR user_script:1: cannot take this value'));
        }
        return call();
      });
    h = await startHarness({ wrapStore: poisoned });
    h.emulator.control.deleteTemplate(TEMPLATES.order_paid.id);
    await h.service.account().delivery.templates.sync();
    const { body } = await h.enqueue({ openid: USER, template: 'order_paid', data: { order_no: 'A1', amount: '1' } });
    const n = await h.waitFor(body.id as string, 'failed', 15_000);
    expect(fired).toBe(5);
    expect(n.reason).toBe('internal_error');
    const details = (n.history as Array<{ detail: string }>).map((e) => e.detail);
    expect(details.filter((d) => d.startsWith('internal error ('))).toHaveLength(4);
    expect(details.at(-1)).toMatch(/^internal error, gave up after 5 tries: ERR user_script:1: cannot take this value/);
    expect(h.emulator.control.inbox(USER)).toHaveLength(0);
  }, 30_000);
});
