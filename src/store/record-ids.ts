import { randomBytes } from 'node:crypto';

/**
 * Record ids, accounts and user shards, the same for every store.
 *
 * A record id is `n` + the user's shard (2 hex digits) + 22 random hex digits + `.` + the appid,
 * e.g. `n035f0c2a9e41b7d3c8e0f1a2.wxd0e1m2o3a4p5p6i7`: the id alone says which account and which
 * shard of that account's users the record lives in, so it is found without a lookup.
 */

/** Accounts appear in keys and ids: letters, digits, `_` and `-` (an appid is `wx` + 16 characters). */
const ACCOUNT = /^[A-Za-z0-9_-]{1,64}$/;
const RECORD_ID = /^n([0-9a-f]{2})[0-9a-f]{22}\.([A-Za-z0-9_-]{1,64})$/;

/**
 * How many shards each account's users are spread over. It must never change for a deployment
 * that has data: a user's shard is where their records, parked list, windows and pushes are kept.
 */
export const DEFAULT_SHARDS_PER_ACCOUNT = 8;
const MAX_SHARDS = 256; // two hex digits in the id

export function checkAccount(appid: string): void {
  if (!ACCOUNT.test(appid)) throw new TypeError(`account must match [A-Za-z0-9_-]{1,64}, got "${appid}"`);
}

/** The shard as it appears in ids and keys: two hex digits. */
export const shardLabel = (shard: number): string => shard.toString(16).padStart(2, '0');

/**
 * FNV-1a (32 bits) of the UTF-8 bytes: the same number in every process, Node version and
 * platform, which a user's shard depends on for as long as their data lives.
 */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // an ASCII character is its own UTF-8 byte: only other text (never an OpenID) is encoded first
    if (code > 0x7f) return fnv1aOfBytes(Buffer.from(text, 'utf8'));
    hash = Math.imul(hash ^ code, 0x01000193) >>> 0;
  }
  return hash;
}

function fnv1aOfBytes(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}

/**
 * 11 random bytes as 22 hex digits, cut from a pool filled 4 KiB at a time: one call to the
 * system's generator per 372 ids instead of one per id (a batch intake makes thousands at once).
 */
const POOL_BYTES = 4092; // a multiple of 11
let pool = Buffer.alloc(0);
let used = 0;
function randomHex22(): string {
  if (used === pool.length) {
    pool = randomBytes(POOL_BYTES);
    used = 0;
  }
  used += 11;
  return pool.toString('hex', used - 11, used);
}

/** A record id without its account (`n<shard><random>`): how the account's own indexes list it. */
export const localId = (id: string): string => id.slice(0, id.indexOf('.'));

/** The record id of `local` (from localId) in `account`. */
export const globalId = (local: string, account: string): string => `${local}.${account}`;

export class RecordIds {
  constructor(readonly shards: number = DEFAULT_SHARDS_PER_ACCOUNT) {
    if (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS) {
      throw new RangeError(`shardsPerAccount must be an integer from 1 to ${MAX_SHARDS}, got ${shards}`);
    }
  }

  /** The shard of `user` (an openid) within its account. */
  shardOfUser(user: string): number {
    return fnv1a(user) % this.shards;
  }

  newId(account: string, user: string): string {
    return `n${shardLabel(this.shardOfUser(user))}${randomHex22()}.${account}`;
  }

  /** Account and shard of an id made by `newId` (with this shard count), or null for anything else. */
  parse(id: string): { account: string; shard: number } | null {
    const match = RECORD_ID.exec(id);
    if (!match) return null;
    const shard = parseInt(match[1], 16);
    return shard < this.shards ? { account: match[2], shard } : null;
  }

  /** The shard of record `id` of `account`; throws for an id of another account or no id at all. */
  shardOfRecord(account: string, id: string): number {
    const parsed = this.parse(id);
    if (parsed?.account !== account) throw new TypeError(`"${id}" is not a record id of account ${account}`);
    return parsed.shard;
  }
}
