import type { AccountStore, Store } from '../../src/store/store';
import type { WebhookStore } from '../../src/store/webhook-store';

/** Sees a store call: `call` sends it on. It may throw, stall, or call through and then throw. */
export type StoreHook = (method: string, args: unknown[], call: () => Promise<unknown>) => Promise<unknown>;

function proxy<T extends object>(target: T, hook: StoreHook, wrapResult: (prop: string, result: unknown) => unknown = (_p, r) => r): T {
  return new Proxy(target, {
    get(t, prop, receiver) {
      const value = Reflect.get(t, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const fn = value as (...a: unknown[]) => unknown;
      // synchronous helpers (ids, views) go straight through
      if (prop === 'forAccount' || prop === 'newId' || prop === 'accountOfId' || prop === 'lastUnreachableAt') return (...args: unknown[]) => wrapResult(String(prop), fn.apply(t, args));
      // one promise per receipt: the hook sees the whole batch as one call
      if (prop === 'applyReceipts') {
        return (receipts: unknown[]) => {
          const all = hook(String(prop), [receipts], () => Promise.all(fn.call(t, receipts) as Promise<unknown>[])) as Promise<unknown[]>;
          return receipts.map((_, i) => all.then((results) => results[i]));
        };
      }
      return (...args: unknown[]) => hook(String(prop), args, async () => fn.apply(t, args));
    },
  });
}

/**
 * The store with every call (of the store and of each account's part) passed through `hook`:
 * fault injection in tests.
 */
export function hookedStore(store: Store, hook: StoreHook): Store {
  return proxy(store, hook, (prop, result) => (prop === 'forAccount' ? proxy(result as AccountStore, hook) : result));
}

/** The store with the calls of its webhook part (only) passed through `hook` first, which may throw. */
export function hookedWebhooks(store: Store, hook: (method: string) => void): Store {
  const webhooks = new Proxy(store.webhooks, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        hook(String(prop));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as WebhookStore;
  return new Proxy(store, { get: (target, prop) => (prop === 'webhooks' ? webhooks : (Reflect.get(target, prop, target) as unknown)) });
}
