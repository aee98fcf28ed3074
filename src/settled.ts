/**
 * What one of many operations done together came to, as Promise.allSettled reports it: calls that
 * store many items at once answer with a list of these (one promise for the list, not one per item).
 */
export type Settled<T> = PromiseSettledResult<T>;

/** The value of `result`, or its reason thrown. */
export function settledValue<T>(result: Settled<T>): T {
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}
