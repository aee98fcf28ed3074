/**
 * The Redis key scheme: every key is `{<prefix>}:<kind>:<name>`, e.g. `{wxr}:rec:<id>`.
 *
 * The braces make the whole prefix the hash tag, so every key of one deployment hashes to the same
 * Redis Cluster slot and every script (which may touch any of them) is single-slot. This is BullMQ's
 * choice (one tag per queue); its price is that a deployment's data lives on one shard, which fits
 * wxreach's volume. Each kind has its own segment, so names of different kinds never collide.
 */
export class RedisKeys {
  private readonly base: string;

  constructor(prefix: string) {
    // no braces, colons or glob characters: the tag and the SCAN pattern stay unambiguous
    if (!/^[A-Za-z0-9_.-]+$/.test(prefix)) throw new Error(`Redis key prefix must match [A-Za-z0-9_.-]+, got "${prefix}"`);
    this.base = `{${prefix}}:`;
  }

  /** SCAN pattern for every key of this prefix. */
  get all(): string {
    return `${this.base}*`;
  }

  /** The due schedule: zset of record ids scored by due time (ms). */
  get due(): string {
    return `${this.base}due`;
  }

  /** Record fields (hash); `record('')` is the prefix scripts append ids to. */
  record(id: string): string {
    return `${this.base}rec:${id}`;
  }

  /** Record history (list of JSON entries). */
  history(id: string): string {
    return `${this.base}hist:${id}`;
  }

  /** An Idempotency-Key of one API client (the caller passes `<client>:<key>`). */
  idempotency(key: string): string {
    return `${this.base}idem:${key}`;
  }

  msgid(msgid: string): string {
    return `${this.base}msgid:${msgid}`;
  }

  /** A receipt status that arrived before its msgid was linked. */
  earlyReceipt(msgid: string): string {
    return `${this.base}early:${msgid}`;
  }

  /**
   * A user's parked records (zset by score). The name is the one version 0.1 used, so notices
   * parked before an upgrade are still released by the user's next interaction.
   */
  parked(owner: string): string {
    return `${this.base}set:parked:${owner}`;
  }

  /** One customer-service window of a user (hash {remaining, expiresAt}). */
  window(user: string, kind: string): string {
    return `${this.base}win:${kind}:${user}`;
  }

  /** A push from WeChat was seen (dedupe). */
  pushSeen(pushKey: string): string {
    return `${this.base}push:${pushKey}`;
  }

  /** The passive reply given to a push (a parked notice's text). */
  reply(pushKey: string): string {
    return `${this.base}reply:${pushKey}`;
  }

  /** The business bot's reply (XML) to a forwarded push. */
  botReply(pushKey: string): string {
    return `${this.base}bot-reply:${pushKey}`;
  }

  /** A key-value consumer's first-seen mark. */
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
