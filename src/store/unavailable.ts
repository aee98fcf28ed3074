/**
 * The store could not be reached (connection down, command not answered in time). Callers treat
 * it as "nothing is known to have changed; try again later", never as a fault of the notice: the
 * HTTP layer answers 503 `store_unavailable`, the work loop leaves the notice for a later claim
 * without counting it against the notice.
 */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}
