import { MemoryStore } from '../../src/store/memory-store';
import { APP, describeStoreContract } from './contract';

describeStoreContract('MemoryStore', async () => {
  const store = new MemoryStore();
  return { store, cleanup: () => store.close() };
});

describe('MemoryStore specifics', () => {
  it('follows an injected clock and sweeps expired entries', async () => {
    let now = 1_000_000;
    const store = new MemoryStore({ now: () => now });
    const account = store.forAccount(APP);
    await account.setValue('v', 'x', 1000);
    await account.firstSeen('k', 1);
    await store.deployment.setValue('d', 'y', 1000);
    now += 999;
    await expect(account.getValue('v')).resolves.toBe('x');
    now += 1;
    store.sweep();
    await expect(account.getValue('v')).resolves.toBeNull();
    await expect(store.deployment.getValue('d')).resolves.toBeNull();
    await expect(account.firstSeen('k', 1)).resolves.toBe(true);
    await store.close();
  });

  it('runs the sweep on its timer and stops it on close', async () => {
    const store = new MemoryStore({ sweepIntervalMs: 10 });
    const sweep = jest.spyOn(store, 'sweep');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sweep).toHaveBeenCalled();
    await store.close();
    const calls = sweep.mock.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sweep.mock.calls.length).toBe(calls);
  });

  it('gives the same account part for the same appid', async () => {
    const store = new MemoryStore();
    await store.forAccount(APP).setValue('k', 'v');
    await expect(store.forAccount(APP).getValue('k')).resolves.toBe('v');
    await store.close();
  });
});
