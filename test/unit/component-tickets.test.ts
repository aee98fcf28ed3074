import { capturedLogger } from '../helpers/logs';
import { testKv, type TestKv } from '../helpers/component-kv';
import { TicketWaitError, VerifyTickets } from '../../src/wechat/component/verify-tickets';

const { log } = capturedLogger('error');

function tickets(kv: TestKv, requestPush: () => Promise<void> = async () => undefined, waitMs = 1000): VerifyTickets {
  return new VerifyTickets({ kv, requestPush, waitMs, log, onSecret: () => undefined });
}

describe('verify tickets', () => {
  let kv: TestKv;
  beforeEach(async () => {
    kv = await testKv();
  });
  afterEach(async () => {
    await kv.close();
  });

  it('keeps the newest by CreateTime, whatever order the pushes arrive in, and a restarted instance reads it', async () => {
    const t = tickets(kv);
    expect(await t.keep('ticket@@@second', 1700000600)).toBe(true);
    expect(await t.keep('ticket@@@first', 1700000000)).toBe(false); // late, older
    expect(await t.latest()).toEqual({ ticket: 'ticket@@@second', createTime: 1700000600 });
    expect(await tickets(kv).latest()).toEqual({ ticket: 'ticket@@@second', createTime: 1700000600 });
  });

  it('reports each ticket it keeps or reads with the end WeChat gives it (12 hours after its push), for the logger to redact until then', async () => {
    const reported: Array<[string, number]> = [];
    const t = new VerifyTickets({ kv, requestPush: async () => undefined, waitMs: 1000, log, onSecret: (value, endsAt) => reported.push([value, endsAt]) });
    await t.keep('ticket@@@reported', 1700000000); // pushed to this instance
    await t.latest(); // read back, as one kept by another instance would be
    const end = 1700000000 * 1000 + 12 * 3600_000;
    expect(reported).toEqual([['ticket@@@reported', end], ['ticket@@@reported', end]]);
  });

  it('of two tickets in the same second the later arrival wins; a re-send of the kept one changes nothing', async () => {
    const t = tickets(kv);
    await t.keep('ticket@@@scheduled', 1700000000);
    expect(await t.keep('ticket@@@requested', 1700000000)).toBe(true);
    expect(await t.keep('ticket@@@requested', 1700000000)).toBe(false);
    expect((await t.latest())?.ticket).toBe('ticket@@@requested');
  });

  it('pushes handled at once by two instances leave the newest', async () => {
    const [one, two] = [tickets(kv), tickets(kv)];
    const times = Array.from({ length: 30 }, (_, i) => 1700000000 + ((i * 7919) % 30) * 600);
    await Promise.all(times.map((ct, i) => (i % 2 ? one : two).keep(`ticket@@@${ct}`, ct)));
    expect(await one.latest()).toEqual({ ticket: `ticket@@@${Math.max(...times)}`, createTime: Math.max(...times) });
  });

  it('a caller without a ticket asks WeChat for a push once, however many wait, and gets the ticket another instance kept', async () => {
    let asked = 0;
    const receiver = tickets(kv);
    const waiter = tickets(kv, async () => {
      asked++;
      setTimeout(() => void receiver.keep('ticket@@@pushed', 1700000000), 150);
    });
    const got = await Promise.all([waiter.awaitNewer(null), waiter.awaitNewer(null), waiter.awaitNewer(null)]);
    expect(asked).toBe(1);
    expect(got.map((t) => t.ticket)).toEqual(['ticket@@@pushed', 'ticket@@@pushed', 'ticket@@@pushed']);
  });

  it('a refused ticket is replaced only by another one', async () => {
    const receiver = tickets(kv);
    await receiver.keep('ticket@@@refused', 1700000000);
    const waiter = tickets(kv, async () => {
      setTimeout(() => void receiver.keep('ticket@@@fresh', 1700000000), 100);
    });
    const refused = await waiter.latest();
    expect((await waiter.awaitNewer(refused)).ticket).toBe('ticket@@@fresh');
  });

  it('with no push arriving, the wait ends after its bound with an error that says what to check', async () => {
    let asked = 0;
    const t = tickets(kv, async () => void asked++, 400);
    const started = Date.now();
    const err = await t.awaitNewer(null).catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(asked).toBe(1);
    expect(err).toBeInstanceOf(TicketWaitError);
    expect((err as Error).message).toMatch(/api_start_push_ticket.*\/wechat\/component/);
  });
});
