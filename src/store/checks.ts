import type { Fields, KeywordData } from './store';

/** Argument checks shared by both stores, so they reject the same calls the same way. */

export function checkCreateFields(id: string, fields: Fields, data?: KeywordData): void {
  if (typeof fields.status !== 'string') throw new TypeError(`record ${id}: fields must include status`);
  if (data !== undefined && fields.data !== undefined) throw new TypeError(`record ${id}: data given twice (as a field and as an object)`);
}

/** A lease of 0 would hand the same id to the next caller at once. */
export function checkLease(leaseMs: number): void {
  if (!(leaseMs > 0)) throw new RangeError(`claimDue: leaseMs must be > 0, got ${leaseMs}`);
}

export function recordExistsError(id: string): Error {
  return new Error(`record ${id} already exists`);
}
