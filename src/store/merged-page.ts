import type { SearchPosition } from './store';

/**
 * One page in an order spread over several sources (the shards of an account, the webhook
 * endpoints of a key), each read from the same position on. A source answers the items it found
 * and, when it may hold more, the last entry it looked at (its frontier): it knows nothing beyond.
 */
export interface SourcePage<T, P> {
  items: T[];
  /** The last entry looked at when more may follow; null when the source has nothing more. */
  frontier: P | null;
}

/**
 * The first `limit` items of every source together, in `compare` order, and where the next page
 * starts (null when no source has more). Items past a source's frontier are left for the next page,
 * since that source has not looked that far yet; so a page may be short, but never has gaps or
 * repeats. Each source must return up to `limit + 1` items to tell a full last page from a longer list.
 */
export function mergePages<P, T extends P>(pages: ReadonlyArray<SourcePage<T, P>>, compare: (a: P, b: P) => number, limit: number): { items: T[]; next: P | null } {
  const bound = pages
    .map((p) => p.frontier)
    .filter((f): f is P => f !== null)
    .sort(compare)[0];
  const merged = pages.flatMap((p) => p.items).sort(compare);
  const known = bound === undefined ? merged : merged.filter((item) => compare(item, bound) <= 0);
  const items = known.slice(0, limit);
  if (merged.length === items.length && bound === undefined) return { items, next: null };
  // a short page stopped at the bound (items beyond it exist, or may): the next one starts there
  return { items, next: items.length === limit ? items[limit - 1] : (bound as P) };
}

/** A search's order, newest first: by score, then by id, both descending (as Redis reads a zset in reverse). */
export const newestFirst = (a: SearchPosition, b: SearchPosition): number => b.score - a.score || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/** The parked records' order: the soonest end first, then by id (as Redis reads a zset). */
export const soonestFirst = (a: SearchPosition, b: SearchPosition): number => -newestFirst(a, b);
