/**
 * The one storage interface of wxreach. It knows records, schedules, counters and locks; it knows
 * nothing of WeChat or of what a status means. Every method that changes more than one thing is
 * atomic (one Lua script in Redis), so any number of instances can share one store.
 *
 * Times are epoch milliseconds unless a name says otherwise.
 */

/** Flat string fields of a record (a Redis hash). */
export type Fields = Record<string, string>;

export interface HistoryEntry {
  /** ISO-8601 time of the event. */
  at: string;
  /** The status after the event (unchanged for events that change nothing). */
  status: string;
  detail: string;
}

export interface StoredRecord {
  /** Always contains `status`. */
  fields: Fields;
  /** Oldest first. */
  history: HistoryEntry[];
}

export interface CreateOptions {
  /** The record expires this long after creation (retention). */
  ttlSeconds: number;
  /** Put the record on the due schedule at this time. */
  dueAt?: number;
  /**
   * Idempotency: when `key` was already used, nothing is created and the existing record's id and
   * the fingerprint stored with it are returned. The key expires with `ttlSeconds`.
   */
  idempotency?: { key: string; fingerprint: string };
}

export type CreateResult = { created: true } | { created: false; existingId: string; fingerprint: string };

export interface TransitionOptions {
  /** Compare-and-set: the change happens only when the current status is one of these. */
  from: readonly string[];
  /** The new status (may equal the current one to update fields only). */
  to: string;
  /** Fields to set together with the status. */
  set?: Fields;
  /** Appended to the history together with the change. */
  history?: HistoryEntry;
  /** A number puts (or moves) the record on the due schedule; null takes it off; undefined leaves it. */
  dueAt?: number | null;
  /** More compare-and-set conditions: each field must currently equal its value ('' = absent or empty). */
  expect?: Fields;
  /** Adds a member to an ordered set (as `addToSet`) in the same step. */
  addToSet?: { key: string; member: string; score: number; ttlSeconds: number };
  /** Removes a member from an ordered set (as `removeFromSet`) in the same step. */
  removeFromSet?: { key: string; member: string };
  /** Stores a value (as `setValue`) in the same step. */
  setValue?: { key: string; value: string; ttlMs: number };
}

/** Result of trying to use one message of an allowance (a quota valid until a time). */
export type AllowanceUse = 'taken' | 'exhausted' | 'expired' | 'unknown';

export interface AllowanceState {
  remaining: number;
  expiresAt: number;
}

export interface Store {
  // --- records (notifications) ---------------------------------------------------------------
  /**
   * Creates record `id` with `fields` (must include `status`) and a first history entry. Throws when
   * `fields` lacks `status` or when record `id` already exists (ids are meant to be unique).
   */
  create(id: string, fields: Fields, history: HistoryEntry, options: CreateOptions): Promise<CreateResult>;
  get(id: string): Promise<StoredRecord | null>;
  /**
   * Atomic compare-and-set on `status` (and the `expect` fields), with everything that goes with the
   * change in the same step; returns false (and changes nothing) when a condition fails or the record is gone.
   */
  transition(id: string, options: TransitionOptions): Promise<boolean>;
  /** Appends to the history whatever the status (e.g. a late receipt); no-op when the record is gone. */
  appendHistory(id: string, entry: HistoryEntry): Promise<void>;

  // --- the due schedule (work loop) ------------------------------------------------------------
  /**
   * Claims up to `limit` records due at or before `now`, oldest first, and pushes their due time to
   * `now + leaseMs` in the same step, so another instance does not claim them; a worker that dies
   * leaves them due again when the lease runs out. `leaseMs` must be > 0. Ids whose record has
   * expired are dropped from the schedule instead of being claimed.
   */
  claimDue(now: number, leaseMs: number, limit: number): Promise<string[]>;
  /** Number of records on the schedule and the earliest due time (null when empty). */
  scheduleInfo(): Promise<{ size: number; nextDueAt: number | null }>;

  // --- correlation (msgid → record id), with early arrivals -----------------------------------
  /**
   * Records `msgid → id` for `ttlSeconds`. When a receipt for this msgid arrived before (stashed by
   * `resolveMsgid`), returns its status and forgets it; otherwise null.
   */
  linkMsgid(msgid: string, id: string, ttlSeconds: number): Promise<string | null>;
  /**
   * Returns the id linked to `msgid`; when none is linked yet, stashes `status` (the first one only)
   * for `ttlSeconds` so `linkMsgid` can hand it over, and returns null.
   */
  resolveMsgid(msgid: string, status: string, ttlSeconds: number): Promise<string | null>;

  // --- de-duplication, values, locks ---------------------------------------------------------
  /** True the first time `key` is seen within `ttlSeconds`, false afterwards. */
  firstSeen(key: string, ttlSeconds: number): Promise<boolean>;
  /** Forgets a `firstSeen` key (so a push whose handling failed can be processed on WeChat's re-send). */
  forget(key: string): Promise<void>;
  getValue(key: string): Promise<string | null>;
  /** `ttlMs` undefined keeps the value forever. */
  setValue(key: string, value: string, ttlMs?: number): Promise<void>;
  /** Deletes `key` only when it still holds `expected`; true when deleted. */
  deleteValueIf(key: string, expected: string): Promise<boolean>;
  /** Sets `key` to `owner` when absent, for `ttlMs`; true when acquired. */
  acquireLock(key: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Releases only when still held by `owner`. */
  releaseLock(key: string, owner: string): Promise<void>;

  // --- hashes and counters (template registry, statistics) -------------------------------------
  getHash(key: string): Promise<Fields>;
  setHash(key: string, fields: Fields): Promise<void>;
  incrementHash(key: string, field: string, by?: number): Promise<number>;

  // --- allowances (per-user quotas valid until a time: the customer-service window) ------------
  /**
   * Sets allowance `key` to `quota` uses until `expiresAt` (replacing what was there). The state is
   * kept `keepSeconds` past `expiresAt` so an expired allowance reads as expired, not unknown.
   */
  openAllowance(key: string, quota: number, expiresAt: number, keepSeconds: number): Promise<void>;
  /**
   * Uses one message from the first of `keys` that is valid at `now` and has uses left, and names
   * that key.
   * 'exhausted': some are valid but none has uses left; 'expired': all known ones are past;
   * 'unknown': none of the keys is known (never opened, or dropped `keepSeconds` after expiry).
   * A closed allowance reads as 'expired' (see `closeAllowances`) until its keep time ends.
   */
  takeAllowance(keys: readonly string[], now: number): Promise<{ use: AllowanceUse; key?: string }>;
  /** Gives back one use taken by `takeAllowance` (the send was refused for another reason). */
  returnAllowance(key: string): Promise<void>;
  getAllowance(key: string): Promise<AllowanceState | null>;
  /**
   * Marks the allowances as expired now (e.g. the user unfollowed), kept `keepSeconds` from now.
   * Keys never opened stay unknown.
   */
  closeAllowances(keys: readonly string[], now: number, keepSeconds: number): Promise<void>;

  // --- ordered sets per owner (notices parked for a user) ---------------------------------------
  /** Adds `member` with `score` to set `key` (ordered by score, then member bytes); the whole set expires `ttlSeconds` after the last add. */
  addToSet(key: string, member: string, score: number, ttlSeconds: number): Promise<void>;
  /** Up to `limit` members, lowest score first. */
  rangeOfSet(key: string, limit: number): Promise<string[]>;
  removeFromSet(key: string, member: string): Promise<void>;

  // --- lifecycle ---------------------------------------------------------------------------
  /** Throws when the store cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
