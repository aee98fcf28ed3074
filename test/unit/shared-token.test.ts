import { MemoryStore } from '../../src/store/memory-store';
import { SharedToken } from '../../src/wechat/shared-token';

// Every token a holder comes to hold is reported with its end, so the logger redacts it until a
// day after then and no longer (src/log/redactor.ts): fetched, offered with an authorisation, or
// read from another instance's fetch.

test('a token fetched, offered or read from the shared store is reported with when it expires', async () => {
  let clock = 1_800_000_000_000;
  const store = new MemoryStore({ now: () => clock });
  const reported: Array<[string, number]> = [];
  const holder = (fetch: () => Promise<{ token: string; lifetimeMs: number }>) =>
    new SharedToken({ storage: store.deployment, key: 'token:wx1', fetch, refreshAheadMs: 300_000, onToken: (t, at) => reported.push([t, at]), now: () => clock });
  try {
    const here = holder(async () => ({ token: 'FETCHED_token_0001', lifetimeMs: 7_200_000 }));
    await expect(here.get()).resolves.toBe('FETCHED_token_0001');
    await here.offer({ token: 'OFFERED_token_0002', lifetimeMs: 7_000_000 });
    const elsewhere = holder(async () => {
      throw new Error('another instance reads the offered token; it does not fetch');
    });
    clock += 60_000;
    await expect(elsewhere.get()).resolves.toBe('OFFERED_token_0002');
    expect(reported).toEqual([
      ['FETCHED_token_0001', 1_800_000_000_000 + 7_200_000],
      ['OFFERED_token_0002', 1_800_000_000_000 + 7_000_000],
      ['OFFERED_token_0002', 1_800_000_000_000 + 7_000_000],
    ]);
  } finally {
    await store.close();
  }
});
