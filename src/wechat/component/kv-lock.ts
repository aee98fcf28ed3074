import { randomUUID } from 'node:crypto';
import type { KeyValueStore } from '../../store/store';

export class LockBusyError extends Error {
  constructor(what: string) {
    super(`${what} is being changed by another caller; try again`);
    this.name = 'LockBusyError';
  }
}

/** A read-modify-write takes milliseconds; a holder that died frees the lock after this. */
const LOCK_TTL_MS = 5000;
const POLL_MS = 20;

/**
 * Runs `change` while holding the store lock `key`, so a read-compare-write of a stored value is
 * one step for every instance that changes it the same way (the key-value store has no
 * compare-and-set of its own). Waits for the lock up to its lifetime, then gives up.
 */
export async function underLock<T>(kv: Pick<KeyValueStore, 'acquireLock' | 'releaseLock'>, key: string, change: () => Promise<T>): Promise<T> {
  const owner = randomUUID();
  const deadline = Date.now() + LOCK_TTL_MS;
  while (!(await kv.acquireLock(key, owner, LOCK_TTL_MS))) {
    if (Date.now() > deadline) throw new LockBusyError(key);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  try {
    return await change();
  } finally {
    await kv.releaseLock(key, owner);
  }
}
