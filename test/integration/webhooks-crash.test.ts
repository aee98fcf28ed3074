import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EmulatorHandle } from '../../src/emulator';
import { StoreUnavailableError } from '../../src/store/unavailable';
import { API_KEY, TEMPLATES, startAppEmulator, startHarness, type Harness } from '../helpers/harness';
import { paid } from '../helpers/paid-notice';
import { hookedWebhooks } from '../helpers/store-proxy';
import { runServer, serverEnv, type Running } from '../helpers/process';
import { startReceiver, testSecret, type Receiver, type Received } from '../outbound/receiver';

/** Every notice has exactly one accepted event of `type` per notice; more requests only with the same webhook-id. */
function expectEachOnce(receiver: Receiver, ids: string[], type: string): void {
  const accepted = receiver.accepted().filter((r) => r.type === type);
  expect(accepted.map((r) => r.payload?.data.id).sort()).toEqual([...ids].sort());
  for (const id of ids) {
    const all = receiver.requests.filter((r: Received) => r.payload?.data.id === id && r.type === type);
    expect(new Set(all.map((r) => r.id)).size).toBe(1);
    expect(all.every((r) => r.verified)).toBe(true);
  }
}

describe('webhooks survive a crash between the status change and the delivery', () => {
  it('events recorded while no instance could hand them on are delivered by the next instance', async () => {
    const receiver = await startReceiver(testSecret());
    const prefix = `t${randomBytes(4).toString('hex')}`;
    const webhooks = { allowPrivate: true, endpoints: [{ url: receiver.url, secret: receiver.secret }] };
    let refused = 0;
    // the first instance dies (as far as webhooks go) right after each status change: its fan-out never runs
    const first = await startHarness({
      redisPrefix: prefix,
      config: (c) => ({ ...c, webhooks }),
      wrapStore: (s) =>
        hookedWebhooks(s, (method) => {
          if (method !== 'claimOutbox') return;
          refused++;
          throw new StoreUnavailableError('injected: the instance is gone');
        }),
    });
    let second: Harness | null = null;
    let firstClosed = false;
    try {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await first.enqueue(paid(i))).body.id as string);
      for (const id of ids) await first.waitFor(id, 'delivered');
      expect(refused).toBeGreaterThan(0);
      expect(receiver.requests).toEqual([]);
      await first.close();
      firstClosed = true;
      second = await startHarness({ redisPrefix: prefix, config: (c) => ({ ...c, webhooks }) });
      await receiver.until((rs) => rs.length >= 5, 10_000, 'the five events from the second instance');
      await new Promise((r) => setTimeout(r, 200));
      expectEachOnce(receiver, ids, 'notification.delivered');
      expect(receiver.requests).toHaveLength(5);
    } finally {
      await second?.close();
      if (!firstClosed) await first.close();
      await receiver.close();
    }
  });

  describe('the built server, SIGKILLed', () => {
    let emulator: EmulatorHandle;
    beforeAll(async () => {
      emulator = await startAppEmulator();
    });
    afterAll(async () => {
      await emulator.close();
    });

    /** A wxreach process whose config sends webhooks to `receiver`, on the Redis keys under `prefix`. */
    function server(receiver: Receiver, prefix: string): Running {
      const file = path.join(os.tmpdir(), `wxreach-webhooks-${prefix}.json`);
      writeFileSync(file, JSON.stringify({ redisPrefix: prefix, webhooks: { allowPrivate: true, endpoints: [{ url: receiver.url, secret: receiver.secret }] } }));
      return runServer(serverEnv(emulator.url, { WXREACH_CONFIG: file }));
    }

    it('loses no event: each terminal notice has exactly one accepted event at the receiver', async () => {
      // the receiver refuses everything until the first process is dead
      const receiver = await startReceiver(testSecret(), () => 503);
      const prefix = `t${randomBytes(4).toString('hex')}`;
      const a = server(receiver, prefix);
      let b: Running | null = null;
      try {
        const [, url] = await a.waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/);
        emulator.control.setCallbackUrl(`${url}/wechat`);
        const ids: string[] = [];
        for (let i = 0; i < 10; i++) {
          const res = await fetch(`${url}/v1/notifications`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
            body: JSON.stringify({ ...paid(i), template: TEMPLATES.order_paid.id }),
          });
          ids.push(((await res.json()) as { id: string }).id);
        }
        const statusOf = async (id: string) =>
          ((await (await fetch(`${url}/v1/notifications/${id}`, { headers: { authorization: `Bearer ${API_KEY}` } })).json()) as { status: string }).status;
        for (let i = 0; i < 200 && (await Promise.all(ids.map(statusOf))).some((s) => s !== 'delivered'); i++) await new Promise((r) => setTimeout(r, 20));
        expect(await Promise.all(ids.map(statusOf))).toEqual(ids.map(() => 'delivered'));
        // killed right after the last status change: its events are in the outbox, in deliveries, or in flight
        a.child.kill('SIGKILL');
        expect(await a.exited).toBeNull();
        expect(receiver.accepted()).toEqual([]);
        const seenBefore = receiver.requests.length;
        receiver.respond(() => 200);
        b = server(receiver, prefix);
        const [, urlB] = await b.waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/);
        emulator.control.setCallbackUrl(`${urlB}/wechat`);
        // refused attempts come again 5 s later; one the dead process had in flight, when its 30 s
        // lease ends (and, had its hint died with the process, at the 30 s sweep after that)
        // (counting only the notices' events: the server also tells of a configured template this emulator lacks)
        const delivered = () => receiver.accepted().filter((r) => r.type === 'notification.delivered');
        await receiver.until(() => delivered().length >= 10, 75_000, 'an accepted event per notice');
        await new Promise((r) => setTimeout(r, 300));
        expectEachOnce(receiver, ids, 'notification.delivered');
        // the retries of what the first process had attempted carry its webhook-ids
        const refusedIds = new Set(receiver.requests.slice(0, seenBefore).map((r) => r.id));
        expect(receiver.accepted().filter((r) => refusedIds.has(r.id))).toHaveLength(refusedIds.size);
      } finally {
        a.child.kill('SIGKILL');
        b?.child.kill('SIGTERM');
        if (b) await b.exited;
        await receiver.close();
      }
      expect(a.output() + (b?.output() ?? '')).not.toContain(receiver.secret.slice(6));
    }, 100_000);
  });
});
