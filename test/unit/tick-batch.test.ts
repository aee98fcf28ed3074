import { TickBatch } from '../../src/tick-batch';

/** A flush that records its batches and answers each item when `release` is called. */
function recorder() {
  const batches: number[][] = [];
  const pending: Array<() => void> = [];
  const flush = (items: number[]) => {
    batches.push(items);
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    pending.push(release);
    return items.map((item) => done.then(() => item * 10));
  };
  return { batches, flush, releaseAll: () => pending.splice(0).forEach((release) => release()) };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('TickBatch', () => {
  it('carries the items of one turn out as one call, each answered with its own result', async () => {
    const r = recorder();
    const batch = new TickBatch(r.flush);
    const answers = [1, 2, 3].map((n) => batch.add(n));
    await turn();
    expect(r.batches).toEqual([[1, 2, 3]]);
    r.releaseAll();
    await expect(Promise.all(answers)).resolves.toEqual([10, 20, 30]);
  });

  it('sends a full batch at once, the rest at the next turn', async () => {
    const r = recorder();
    const batch = new TickBatch(r.flush, { max: 2 });
    const answers = [1, 2, 3].map((n) => batch.add(n));
    expect(r.batches).toEqual([[1, 2]]);
    await turn();
    expect(r.batches).toEqual([[1, 2], [3]]);
    r.releaseAll();
    await expect(Promise.all(answers)).resolves.toEqual([10, 20, 30]);
  });

  it('with inFlight 1, holds what arrives while a call is out and sends it together when it settles', async () => {
    const r = recorder();
    const batch = new TickBatch(r.flush, { inFlight: 1, max: 3 });
    const first = batch.add(1);
    await turn();
    const later = [2, 3, 4, 5].map((n) => batch.add(n)); // a full batch would go at once, but one is out
    await turn();
    await turn();
    expect(r.batches).toEqual([[1]]);
    r.releaseAll();
    await first;
    await turn();
    // the items that waited go at most 3 at a time, still one call out at a time
    expect(r.batches).toEqual([[1], [2, 3, 4]]);
    r.releaseAll();
    await turn();
    expect(r.batches).toEqual([[1], [2, 3, 4], [5]]);
    r.releaseAll();
    await expect(Promise.all(later)).resolves.toEqual([20, 30, 40, 50]);
  });

  it('fails only the items of a call that failed, and goes on with the next', async () => {
    let calls = 0;
    const batch = new TickBatch(
      (items: number[]) => {
        calls += 1;
        if (calls === 1) throw new Error('refused');
        return items.map(async (n) => (n === 3 ? Promise.reject(new Error('no 3')) : n));
      },
      { inFlight: 1 },
    );
    const failed = batch.add(1);
    await expect(failed).rejects.toThrow('refused');
    const results = await Promise.allSettled([batch.add(2), batch.add(3)]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([2, 'no 3']);
    await expect(batch.add(4)).resolves.toBe(4);
    expect(calls).toBe(3);
  });
});
