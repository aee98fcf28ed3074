/**
 * The storage interfaces of wxreach, in the words of their consumers: notification records and
 * their moves, the due schedule, msgid correlation, parked lists, customer-service windows, push
 * memory, and small key-values. The store knows nothing of WeChat or of what a status means.
 * Every method that changes more than one thing is atomic (one Lua script in Redis), so any
 * number of instances can share one store. Every Redis key is named in redis-keys.ts.
 *
 * Everything belongs to one Official Account (its appid), except the deployment's own values
 * (the third-party platform's ticket and tokens, the list of authorised accounts): a consumer gets
 * an account's part with `Store.forAccount(appid)`, so the appid is in every key it touches. Within
 * an account, a user's data (records, parked list, windows, pushes, msgids) sits together, and
 * different users of one account spread over the shards of a Redis Cluster.
 *
 * Times are epoch milliseconds unless a name says otherwise.
 */
import type { CounterReader, DeploymentCounters, Tally } from './counter-buckets';
import type { WebhookStore } from './webhook-store';
import type { Settled } from '../settled';

/** Flat string fields of a record (a Redis hash). */
export type Fields = Record<string, string>;

export interface HistoryEntry {
  /** ISO-8601 time of the event. */
  at: string;
  /** The status after the event (unchanged for events that change nothing). */
  status: string;
  detail: string;
  /** The outside call behind the event, in its writer's compact form (every line is stored: keep it short). */
  call?: string;
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
  /** Search terms the record is found by (RecordSearch.findByTerm), listed at time `at` (ms): kept as long as the record. */
  index?: { terms: readonly string[]; at: number };
  /**
   * Counters the creation adds to its time buckets, in the same step (not when nothing is created).
   * Its subject is given, not read from a field: the records created together are counted at once.
   */
  tally?: Tally<string>;
}

export type CreateResult = { created: true } | { created: false; existingId: string; fingerprint: string };

/** Template data: each keyword's value and colour (a notice's `data`). */
export type KeywordData = Readonly<Record<string, Readonly<{ value: string; color?: string }>>>;

/** A record to create: the arguments of NotificationRecords.create. */
export interface NewRecord {
  id: string;
  fields: Fields;
  history: HistoryEntry;
  options: CreateOptions;
  /**
   * The record's `data` field given as the object it is JSON of (`fields` has no `data` then): the
   * record reads back with `data` as `JSON.stringify(data)` would write it. The Redis store keeps a
   * keyword a field of its own, and from the object it need not write the JSON and read it back
   * (about 4 µs a notice in batch intake).
   */
  data?: KeywordData;
}

/**
 * A compare-and-set change of a record: it happens only when the record's `status` is one of
 * `from` (and each `expect` field has its value); everything in it happens in one atomic step.
 */
export interface RecordMove {
  from: readonly string[];
  /** The new status (may equal the current one to change fields or the schedule only). */
  to: string;
  /** Fields to set together with the status ('' clears one). */
  set?: Fields;
  /** More conditions: each field must currently equal its value ('' = absent or empty). */
  expect?: Fields;
  /** Appended to the history together with the change. */
  history?: HistoryEntry;
  /** A number puts (or moves) the record on the due schedule; null takes it off; undefined leaves it. */
  dueAt?: number | null;
  /** An event the move causes, kept in the outbox of the record's user in the same step (see WebhookStore). */
  event?: RecordEvent;
  /** Counters the move adds to its time buckets, in the same step. */
  tally?: Tally;
}

/** An event about a record: kept with the record's named fields and history as the move left them. */
export interface RecordEvent {
  type: string;
  /** When it happened. */
  at: number;
  /** The fields the event keeps (absent ones are left out). */
  fields: readonly string[];
}

/** A record joining its owner's ordered list of parked records. */
export interface ParkedEntry {
  owner: string;
  /** Order among the owner's parked records (then by id). */
  score: number;
  /** The list expires this long after its last addition. */
  ttlSeconds: number;
  /** When the park ends: the record's place among the parked records of every owner (RecordSearch.findParked). */
  until: number;
}

/** Result of trying to use one message of a customer-service window. */
export type WindowUse = 'taken' | 'exhausted' | 'expired' | 'unknown';

export interface WindowState {
  remaining: number;
  expiresAt: number;
}

/** Notification records: fields, history, and the moves between statuses. */
export interface NotificationRecords {
  /**
   * Creates record `id` with `fields` (must include `status`) and a first history entry. Throws when
   * `fields` lacks `status` or when record `id` already exists (ids are meant to be unique).
   */
  create(id: string, fields: Fields, history: HistoryEntry, options: CreateOptions): Promise<CreateResult>;
  /**
   * `create` for many records at once: what each came to, in order, as its own `create` would have
   * (a record sees the idempotency keys of those before it, as if created one after the other),
   * once all are stored (one promise for the call: a batch of a thousand costs no thousand
   * promises). Fewer store calls than records: the Redis store writes the records of one shard in
   * one step.
   */
  createMany(records: readonly NewRecord[]): Promise<Settled<CreateResult>[]>;
  get(id: string): Promise<StoredRecord | null>;
  /**
   * Applies `move` when its conditions hold; returns false (and changes nothing) when one fails or
   * the record is gone. `unparkFrom` also takes the record off that owner's parked list.
   */
  move(id: string, move: RecordMove, unparkFrom?: string): Promise<boolean>;
  /** `move`, and the record joins its owner's parked list, in one step. */
  park(id: string, move: RecordMove, entry: ParkedEntry): Promise<boolean>;
  /**
   * `move`, the record leaves `owner`'s parked list, and `reply.text` is remembered as the reply
   * to push `reply.pushKey` for `reply.ttlMs` (see PushMemory.replyFor), in one step.
   */
  releaseAsReply(id: string, move: RecordMove, owner: string, reply: { pushKey: string; text: string; ttlMs: number }): Promise<boolean>;
  /**
   * Links `link.msgid` to the record for `link.ttlSeconds` and makes `move`, in one step: the link
   * as MsgidCorrelation.linkMsgid makes it (whether or not the move happens; `early` is a receipt
   * status stashed for that msgid before, or null), then the move (`moved`).
   */
  moveLinkingMsgid(id: string, move: RecordMove, link: MsgidLink): Promise<{ moved: boolean; early: string | null }>;
  /** Appends to the history whatever the status (e.g. a late receipt); no-op when the record is gone. */
  appendHistory(id: string, entry: HistoryEntry): Promise<void>;
}

/** A record that is due, and the account it belongs to. */
export interface DueWork {
  account: string;
  id: string;
  /** The record as the claim found it (read in the claim's step, so the worker needs no read of its own). */
  record?: StoredRecord;
}

/** The due schedule the work loops claim from, across every account. */
export interface DueSchedule {
  /**
   * Claims up to `limit` records due at or before `now` and pushes their due time to `now +
   * leaseMs` in the same step, so another instance does not claim them; a worker that dies leaves
   * them due again when the lease runs out. `leaseMs` must be > 0. Ids whose record has expired are
   * dropped from the schedule instead of being claimed.
   *
   * Fair between accounts: `limit` is shared out evenly among the accounts that have due work (what
   * one leaves unused goes to the others), and within an account the oldest due come first; so an
   * account with 100,000 due notices never holds back another account's single notice.
   */
  claimDue(now: number, leaseMs: number, limit: number): Promise<DueWork[]>;
  /** Number of records on the schedule and the earliest due time (null when empty), over all accounts. */
  scheduleInfo(): Promise<{ size: number; nextDueAt: number | null }>;
}

/** msgid → record id, with receipts that arrive before the link. */
export interface MsgidCorrelation {
  /**
   * Records `msgid → id` for `ttlSeconds`. When a receipt for this msgid arrived before (stashed by
   * `resolveMsgid`), returns its status (kept until it expires, so a step that died before
   * applying it, or the receipt deadline, finds it again); otherwise null.
   */
  linkMsgid(msgid: string, id: string, ttlSeconds: number): Promise<string | null>;
  /**
   * Applies receipts, each in one atomic step, and returns one promise per receipt (in order), each
   * settled when its own step is stored; receipts of one shard go to Redis as one script. A step:
   * a push already handled changes nothing ('duplicate'); else the record linked to the msgid
   * takes the receipt's move when it is `user`'s and the move's conditions hold ('moved'),
   * otherwise its history notes why not ('foreign', 'late'; 'gone' when it expired); a msgid not
   * linked yet stashes the status (the first one only) for `linkMsgid` ('stashed'); then the push
   * is marked handled. The move's record id is left blank: it is the linked one.
   *
   * A receipt that reaches its record ('moved', 'late') marks its push handled, and leaves its msgid
   * linked, for LINKED_AFTER_RECEIPT_SECONDS only (not `seenSeconds`): a later repeat finds no link
   * and is stashed, which changes nothing either.
   */
  applyReceipts(receipts: readonly MsgidReceipt[]): Promise<ReceiptApplied>[];
}

/** A msgid linked to a record (see MsgidCorrelation.linkMsgid), kept `ttlSeconds`. */
export interface MsgidLink {
  msgid: string;
  ttlSeconds: number;
}

/** How long a receipt that reached its record is remembered, and its msgid linked: WeChat re-sends a push within seconds. */
export const LINKED_AFTER_RECEIPT_SECONDS = 600;

// --- receipts applied by msgid (see MsgidCorrelation.applyReceipts) ---------------------------

/** A receipt for the record linked to `msgid`. */
export interface MsgidReceipt {
  /** Its sender; the linked record must be this user's. */
  user: string;
  /** The push's name among the user's pushes (see PushMemory), marked handled for `seenSeconds`. */
  pushKey: string;
  seenSeconds: number;
  msgid: string;
  /** What is stashed for `linkMsgid` when the msgid is not linked yet, kept `stashSeconds`. */
  status: string;
  stashSeconds: number;
  /** The move of the linked record (`to` is its new status). */
  move: RecordMove;
  /** History lines (at `move`'s time) when the record is another user's, or does not take the move. */
  notes: { at: string; foreign: string; late: string };
}

export type ReceiptApplied =
  | { result: 'duplicate' | 'stashed' }
  | { result: 'gone' | 'foreign' | 'late' | 'moved'; id: string };

/** Each owner's parked records (changed only together with a move: see NotificationRecords). */
export interface ParkedLists {
  /** Up to `limit` ids, lowest score first (then by id bytes). */
  parkedFor(owner: string, limit: number): Promise<string[]>;
  /** Drops a stale entry (the record moved on by another way). */
  forgetParked(owner: string, id: string): Promise<void>;
}

/** The record field naming the client that created it: searches can be limited to some clients' records. */
export const CREATOR_FIELD = 'client';

/** A place in a search's order: where a page ended, to go on after. */
export interface SearchPosition {
  score: number;
  id: string;
}

export interface SearchOptions {
  /** Only records whose CREATOR_FIELD is one of these (or absent: kept from before creators were); undefined: every record. */
  creators?: readonly string[];
  /** At most this many ids. */
  limit: number;
  /** A previous page's `next`. */
  after?: SearchPosition;
}

export interface SearchPage {
  ids: string[];
  /**
   * Pass as `after` for the next page; null when nothing follows. A page that looked at many records
   * of other clients may hold fewer than `limit` ids (even none) and still have a next.
   */
  next: SearchPosition | null;
}

/**
 * Finding an account's records again: by the terms they were created with, and the parked ones.
 * Each index is kept beside the records it lists (in Redis, in their shards, changed in the same
 * script as the record) and expires with them.
 */
export interface RecordSearch {
  /** Records listed under `term` (CreateOptions.index), newest first. `user`: every record of the term is this user's, so one shard is read. */
  findByTerm(term: string, options: SearchOptions & { user?: string }): Promise<SearchPage>;
  /** Records on a parked list (every owner's), the soonest `until` first. */
  findParked(options: SearchOptions): Promise<SearchPage>;
}

/** Customer-service windows per user and kind (quotas valid until a time). */
export interface CustomerServiceWindows {
  /**
   * Sets window `kind` of `user` to `quota` messages until `expiresAt` (replacing what was there),
   * kept `keepSeconds` past `expiresAt` so an expired window reads as expired, not unknown.
   */
  openWindow(user: string, kind: string, quota: number, expiresAt: number, keepSeconds: number): Promise<void>;
  /**
   * Uses one message from the first of `kinds` that is open at `now` with messages left, and names
   * it. 'exhausted': some are open but used up; 'expired': all known ones are past; 'unknown': none
   * is known (never opened, or dropped `keepSeconds` after expiry). A closed window reads 'expired'.
   */
  takeFromWindow(user: string, kinds: readonly string[], now: number): Promise<{ use: WindowUse; kind?: string }>;
  /** Gives back one message taken by `takeFromWindow` (the send was refused for another reason). */
  giveBackToWindow(user: string, kind: string): Promise<void>;
  getWindow(user: string, kind: string): Promise<WindowState | null>;
  /** Marks the windows as expired now, kept `keepSeconds` from now; never-opened ones are recorded closed. */
  closeWindows(user: string, kinds: readonly string[], now: number, keepSeconds: number): Promise<void>;
}

/**
 * What wxreach remembers of pushes from WeChat: which were seen, and the replies given to them.
 * Every push comes from a user (`user`, its FromUserName); `pushKey` names the push among that
 * user's pushes.
 */
export interface PushMemory {
  /** Claims push `pushKey` for `ttlSeconds`: true when nobody had claimed or handled it. */
  firstSeenPush(user: string, pushKey: string, ttlSeconds: number): Promise<boolean>;
  /** Extends a claim that is still held, for `ttlSeconds` from now (the handler is alive). */
  renewPushClaim(user: string, pushKey: string, ttlSeconds: number): Promise<void>;
  /** Marks push `pushKey` handled, for `ttlSeconds` from now. */
  keepPushSeen(user: string, pushKey: string, ttlSeconds: number): Promise<void>;
  /** 'claimed' while being handled, 'handled' after, null when neither (or expired). */
  pushState(user: string, pushKey: string): Promise<'claimed' | 'handled' | null>;
  /** Forgets it was seen (a push whose handling failed is handled again on WeChat's re-send). */
  forgetPush(user: string, pushKey: string): Promise<void>;
  /** The passive reply recorded for this push by NotificationRecords.releaseAsReply (owner = user), if any. */
  replyFor(user: string, pushKey: string): Promise<string | null>;
  /** The business bot's reply (XML) to this push, if kept. */
  botReplyFor(user: string, pushKey: string): Promise<string | null>;
  rememberBotReply(user: string, pushKey: string, xml: string, ttlMs: number): Promise<void>;
}

/**
 * Small values, marks, locks and counters, for consumers whose few keys are their own vocabulary
 * (the token source, the template registry and quota, the signature memory): each names its keys
 * in one place, and the store puts them in a namespace of their own.
 */
export interface KeyValueStore {
  /** True the first time `key` is seen within `ttlSeconds`, false afterwards. */
  firstSeen(key: string, ttlSeconds: number): Promise<boolean>;
  /** Forgets a `firstSeen` key. */
  forget(key: string): Promise<void>;
  getValue(key: string): Promise<string | null>;
  /** `ttlMs` undefined keeps the value forever. */
  setValue(key: string, value: string, ttlMs?: number): Promise<void>;
  /** Sets `key` to `value` for `ttlMs` unless it holds a value; true when set. */
  setValueIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Deletes `key` only when it still holds `expected`; true when deleted. */
  deleteValueIf(key: string, expected: string): Promise<boolean>;
  /** Sets `key` to `owner` when absent, for `ttlMs`; true when acquired. */
  acquireLock(key: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Releases only when still held by `owner`. */
  releaseLock(key: string, owner: string): Promise<void>;
  getHash(key: string): Promise<Fields>;
  setHash(key: string, fields: Fields): Promise<void>;
}

/**
 * What one Official Account keeps: its notices and their users' state, and its own key-values
 * (access token, templates, quota, signatures). Record ids come from `newId` and carry the
 * account and the user's shard, so a record is found from its id alone (`Store.accountOfId`).
 * Methods given an id of another account throw.
 */
export interface AccountStore extends NotificationRecords, RecordSearch, MsgidCorrelation, ParkedLists, CustomerServiceWindows, PushMemory, KeyValueStore, CounterReader {
  /** The appid. */
  readonly account: string;
  /** A fresh, unique record id for a notice to `user` of this account. */
  newId(user: string): string;
  /**
   * Every record of this account on the due schedule becomes due at `now` (an unauthorised
   * account's notices are ended at once); returns how many.
   */
  allDueNow(now: number): Promise<number>;
}

/** An entry of a stream: its id (`<ms>-<seq>`, in the order added) and its fields. */
export interface StreamEntry {
  id: string;
  fields: Fields;
}

/**
 * One consumer group on one stream that other systems append to: each entry is handed to one
 * consumer of the group and stays pending until acknowledged, so an entry whose consumer died is
 * handed on (claimIdle) instead of lost.
 */
export interface StreamGroup {
  /** The stream's name. */
  readonly stream: string;
  /** The stream its dead letters go to. */
  readonly deadLetters: string;
  /** Up to `count` entries not yet handed to any consumer of the group, now pending for `consumer`. Creates the group when missing. */
  readNew(consumer: string, count: number): Promise<StreamEntry[]>;
  /** Up to `count` entries pending for `consumer` itself (handed to it and not acknowledged). */
  readOwnPending(consumer: string, count: number): Promise<StreamEntry[]>;
  /**
   * Entries pending for any consumer for at least `idleMs`, now pending for `consumer`; a scan from
   * `cursor` ('0-0' to start) that returns where to go on ('0-0' when done).
   */
  claimIdle(consumer: string, idleMs: number, count: number, cursor: string): Promise<{ entries: StreamEntry[]; cursor: string }>;
  acknowledge(ids: readonly string[]): Promise<void>;
  /** Appends `fields` to the dead-letter stream (created when missing). */
  appendDeadLetter(fields: Fields): Promise<void>;
  /** Removes entries the group has acknowledged that were added before `before` (epoch ms); other groups are not asked. */
  trimAcknowledged(before: number): Promise<void>;
  /** Removes `consumer` from the group when it has nothing pending; true when removed. */
  leave(consumer: string): Promise<boolean>;
}

/** Streams that other systems append to (a Redis store only). */
export interface EntryStreams {
  /**
   * Consumer group `group` of `stream` (null: the store's intake stream), which starts at the
   * stream's first entry: entries added before the group was created (or before the stream was)
   * are read too.
   */
  group(stream: string | null, group: string): StreamGroup;
}

/** Everything wxreach keeps: each consumer asks only for the part it needs. */
export interface Store extends DueSchedule {
  /** Streams other systems append to; absent when the store has none (process memory). */
  readonly streams?: EntryStreams;
  /** The events the moves recorded, and the status webhooks' endpoints and deliveries. */
  readonly webhooks: WebhookStore;
  /** The part of account `appid` (cheap: a view, not a connection). */
  forAccount(appid: string): AccountStore;
  /** The account a record id (from `AccountStore.newId`) belongs to, or null when it is not such an id. */
  accountOfId(id: string): string | null;
  /** The deployment's own values (third-party platform ticket and tokens, authorised accounts). */
  readonly deployment: KeyValueStore;
  /** The deployment's own time-bucketed counters (an account's come with its records' tallies). */
  readonly counters: DeploymentCounters;
  /** Throws when the store cannot be reached. */
  ping(): Promise<void>;
  /** When a call last failed because the store could not be reached (epoch ms), or null. */
  lastUnreachableAt(): number | null;
  close(): Promise<void>;
}
