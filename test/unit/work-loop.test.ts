import { WorkLoop } from '../../src/delivery/work-loop';
import type { DueWork } from '../../src/store/store';
import { deliveryRig } from '../helpers/delivery-rig';

describe('WorkLoop', () => {
  it('a notice accepted while a claim that finds nothing is under way is sent at once, not after the poll interval', async () => {
    const r = deliveryRig();
    let accepted: Promise<unknown> | undefined;
    const claims: number[] = [];
    // The first claim looks before the notice is stored and answers after the accept poked the loop.
    const schedule = {
      claimDue: async (now: number, leaseMs: number, limit: number): Promise<DueWork[]> => {
        claims.push(Date.now());
        if (claims.length > 1) return r.schedule.claimDue(now, leaseMs, limit);
        accepted = r.accept().then(() => loop.poke());
        await accepted;
        return [];
      },
      scheduleInfo: () => r.schedule.scheduleInfo(),
    };
    const loop = new WorkLoop(schedule, () => r.dispatcher, { pollMs: 60_000, leaseMs: 30_000, batchSize: 10, concurrency: 4 }, r.log, r.now);
    const started = Date.now();
    loop.start();
    try {
      while (r.api.sendTemplate.mock.calls.length === 0 && Date.now() - started < 5000) await new Promise((resolve) => setTimeout(resolve, 5));
    } finally {
      await loop.stop();
    }
    expect(accepted).toBeDefined();
    expect(r.api.sendTemplate).toHaveBeenCalledTimes(1);
    expect(claims.length).toBeGreaterThanOrEqual(2);
    expect(Date.now() - started).toBeLessThan(5000); // the poll interval is a minute
  });
});
