import { createHash } from 'node:crypto';
import type { Resolution } from './counter-buckets';
import { shardLabel } from './record-ids';

/**
 * The Redis key scheme, with three kinds of hash tag (the part in braces decides the Redis Cluster
 * slot, so keys with the same tag can be used together in one Lua script):
 *
 * - `{<prefix>}:…` the deployment's own values, the due index and the list of accounts;
 * - `{<prefix>:<appid>}:…` an account's values (token, templates, quota, signatures) and its
 *   idempotency keys;
 * - `{<prefix>:<appid>:<shard>}:…` one shard of an account's users (shard = a hash of the openid,
 *   see RecordIds): everything of a user lives there (records and their histories, the shard's due
 *   schedule and outbox, the user's parked list, windows, push memory and replies, msgid links and
 *   early receipts);
 * - `{<prefix>:webhook.<endpoint>}:…` one webhook endpoint's deliveries, their order and schedule
 *   (the `.` keeps it apart from every account's tag).
 *
 * So every script stays in one slot, while accounts, and the users of one busy account, spread
 * over all the masters of a cluster (on one Redis the tags change nothing). Each kind of key has
 * its own segment after the tag, so names of different kinds never collide.
 */
export class RedisKeys {
  readonly deployment: DeploymentKeys;

  constructor(private readonly prefix: string) {
    // no braces or colons: the tags `{p}`, `{p:appid}` and `{p:appid:shard}` stay distinct
    if (!/^[A-Za-z0-9_.-]+$/.test(prefix)) throw new Error(`Redis key prefix must match [A-Za-z0-9_.-]+, got "${prefix}"`);
    this.deployment = new DeploymentKeys(`{${prefix}}:`);
  }

  /** Keys of account `appid` (checked by the caller: see checkAccount). */
  account(appid: string): AccountKeys {
    return new AccountKeys(`{${this.prefix}:${appid}}:`);
  }

  shard(appid: string, shard: number): ShardKeys {
    return new ShardKeys(`{${this.prefix}:${appid}:${shardLabel(shard)}}:`);
  }

  /**
   * The stream business systems append notifications to, unless configured otherwise: a name
   * they type (`<prefix>:intake`), so no hash tag; it is one key, on any master of a cluster.
   */
  get intakeStream(): string {
    return `${this.prefix}:intake`;
  }

  /** Keys of a webhook endpoint (checked by the caller: see checkEndpointId). */
  webhook(endpoint: string): WebhookKeys {
    return new WebhookKeys(`{${this.prefix}:webhook.${endpoint}}:`);
  }
}

/** Where the entries of `stream` that cannot be taken go, with the reason. */
export const deadLetterStream = (stream: string): string => `${stream}:dead`;

/**
 * A hash of time-bucketed counters (see counter-buckets.ts): minutes of one hour (`cnt:m:<hours
 * since the epoch>`) or hours of one day (`cnt:h:<days since the epoch>`), UTC.
 */
const counterKey = (base: string, resolution: Resolution, period: number): string => `${base}cnt:${resolution === 'minute' ? 'm' : 'h'}:${period}`;

/** A user name inside a key that has another variable part: escaped, so it holds no `:`. */
const part = (user: string) => encodeURIComponent(user);

/** Search terms longer than this are named by their hash (a business value may be long). */
const TERM_CHARS = 100;

/** A search term inside a key: escaped, or `#` + its SHA-1 when long (escaping never makes a `#`). */
export const termPart = (term: string) => (term.length <= TERM_CHARS ? part(term) : `#${createHash('sha1').update(term).digest('hex')}`);

/** The namespace of one KeyValueStore. */
export class ValueKeys {
  constructor(protected readonly base: string) {}

  /** A first-seen mark. */
  seen(key: string): string {
    return `${this.base}seen:${key}`;
  }

  value(key: string): string {
    return `${this.base}val:${key}`;
  }

  lock(key: string): string {
    return `${this.base}lock:${key}`;
  }

  hash(key: string): string {
    return `${this.base}hash:${key}`;
  }
}

export class DeploymentKeys extends ValueKeys {
  /**
   * The due index: zset of shards (`<appid>:<shard>`, see dueIndexMember) scored by when the shard
   * next has a record due, so the work loop finds due work without polling every shard.
   */
  get dueIndex(): string {
    return `${this.base}due-index`;
  }

  /** The claim in progress on each shard of the due index (hash member → token). */
  get dueClaims(): string {
    return `${this.base}due-claims`;
  }

  /** Every account that has ever had a record (set of appids), for the due index's sweep. */
  get accounts(): string {
    return `${this.base}accounts`;
  }

  /** Events that are not a record's (stream), see WebhookStore. */
  get outbox(): string {
    return `${this.base}outbox`;
  }

  /** The outbox index: zset of outbox keys scored by when they next have events to hand on (as the due index). */
  get outboxIndex(): string {
    return `${this.base}outbox-index`;
  }

  /** The claim in progress on each outbox of the index (outbox key → token). */
  get outboxClaims(): string {
    return `${this.base}outbox-claims`;
  }

  /** Webhook endpoints registered through the API (hash id → definition). */
  get webhookEndpoints(): string {
    return `${this.base}webhook-endpoints`;
  }

  /** The deployment's own counters (the answers to WeChat's pushes). */
  counters(resolution: Resolution, period: number): string {
    return counterKey(this.base, resolution, period);
  }
}

/** A shard's member in the due index. */
export const dueIndexMember = (appid: string, shard: number): string => `${appid}:${shardLabel(shard)}`;

export function parseDueIndexMember(member: string): { account: string; shard: number } {
  const colon = member.lastIndexOf(':');
  return { account: member.slice(0, colon), shard: parseInt(member.slice(colon + 1), 16) };
}

export class AccountKeys extends ValueKeys {
  /** An Idempotency-Key of one API client (the caller passes `<client>:<key>`). */
  idempotency(key: string): string {
    return `${this.base}idem:${key}`;
  }
}

export class ShardKeys {
  constructor(private readonly base: string) {}

  /** The shard's due schedule: zset of record ids scored by due time (ms). */
  get due(): string {
    return `${this.base}due`;
  }

  /** Events of the shard's records, appended by their moves (stream), see WebhookStore. */
  get outbox(): string {
    return `${this.base}outbox`;
  }

  /** A record: its fields and history (hash, see redis-record-codec.ts); `record('')` is the prefix scripts append ids to. */
  record(id: string): string {
    return `${this.base}rec:${id}`;
  }

  /** The history of a record written before histories moved into its hash (list of JSON entries); newer records have none. */
  history(id: string): string {
    return `${this.base}hist:${id}`;
  }

  /** Records listed under a search term: zset of local ids (see localId) by when they were listed; `searchTerm('')` is the prefix scripts append a termPart to. */
  searchTerm(term: string): string {
    return `${this.base}ix:${termPart(term)}`;
  }

  /** Every parked record of the shard: zset of local ids by when their park ends. */
  get parkedIndex(): string {
    return `${this.base}ix-parked`;
  }

  /** A user's parked records (zset by score). */
  parked(owner: string): string {
    return `${this.base}set:parked:${owner}`;
  }

  /** One customer-service window of a user (hash {remaining, expiresAt}). */
  window(user: string, kind: string): string {
    return `${this.base}win:${kind}:${part(user)}`;
  }

  /** A push from WeChat was claimed or handled (dedupe). */
  pushSeen(user: string, pushKey: string): string {
    return `${this.base}push:${part(user)}:${pushKey}`;
  }

  /** The passive reply given to a push (a parked notice's text). */
  reply(user: string, pushKey: string): string {
    return `${this.base}reply:${part(user)}:${pushKey}`;
  }

  /** The business bot's reply (XML) to a forwarded push. */
  botReply(user: string, pushKey: string): string {
    return `${this.base}bot-reply:${part(user)}:${pushKey}`;
  }

  /** msgid → record id (msgids are unique within an account; the tag makes them per account and shard). */
  msgid(msgid: string): string {
    return `${this.base}msgid:${msgid}`;
  }

  /** A receipt status that arrived before its msgid was linked. */
  earlyReceipt(msgid: string): string {
    return `${this.base}early:${msgid}`;
  }

  /** The counters of the shard's records (their tallies): in the shard, so a move's script counts too. */
  counters(resolution: Resolution, period: number): string {
    return counterKey(this.base, resolution, period);
  }
}

export class WebhookKeys {
  constructor(private readonly base: string) {}

  /** A delivery (hash); `delivery('')` is the prefix scripts append ids to. */
  delivery(id: string): string {
    return `${this.base}del:${id}`;
  }

  /** A delivery's attempts, oldest first (list of JSON). */
  attempts(id: string): string {
    return `${this.base}att:${id}`;
  }

  /** The deliveries of one subject not yet settled, oldest first (list); the first is the one scheduled. */
  order(subject: string): string {
    return `${this.base}order:${part(subject)}`;
  }

  /** The endpoint's schedule: zset of delivery ids by when they are next attempted. */
  get due(): string {
    return `${this.base}due`;
  }

  /** Every delivery kept, by creation time (zset), for listing and recovery. */
  get all(): string {
    return `${this.base}all`;
  }

  /** The endpoint's state (hash: disabledAt, disabledReason, failingSince). */
  get state(): string {
    return `${this.base}state`;
  }
}
