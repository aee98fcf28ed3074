import {
  AbortError,
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  createClient,
  DisconnectsClientError,
  ErrorReply,
  ReconnectStrategyError,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
  TimeoutError,
} from 'redis';
import { within } from '../deadline';
import { checkCreateFields, checkLease, recordExistsError } from './checks';
import { RedisKeys } from './redis-keys';
import { claimDue } from './scripts/claim-due';
import { closeWindows } from './scripts/close-windows';
import { createRecord } from './scripts/create';
import { deleteIfEqual } from './scripts/delete-if-equal';
import { linkMsgid } from './scripts/link-msgid';
import type { LuaScript } from './scripts/lua-script';
import { renewClaim } from './scripts/renew-claim';
import { resolveMsgid } from './scripts/resolve-msgid';
import { moveRecord, parkRecord, releaseRecordAsReply } from './scripts/record-move';
import { giveBackToWindow } from './scripts/return-window';
import { takeFromWindow } from './scripts/take-window';
import { StoreUnavailableError } from './unavailable';
import type {
  CreateOptions,
  CreateResult,
  Fields,
  HistoryEntry,
  ParkedEntry,
  RecordMove,
  Store,
  StoredRecord,
  WindowState,
  WindowUse,
} from './store';

export interface RedisStoreOptions {
  url: string;
  /** Namespace and hash tag of every key (see RedisKeys). Default 'wxr'. */
  prefix?: string;
  /** Receives connection errors; the client reconnects by itself. Default: ignored. */
  onError?: (err: Error) => void;
  /** Time allowed for the first connection. Default 2000 ms. */
  connectTimeoutMs?: number;
  /** A connection silent this long is dropped and reconnected. Default 10 000 ms. */
  socketTimeoutMs?: number;
  /** A call not answered within this time fails with StoreUnavailableError. Default 1500 ms. */
  callTimeoutMs?: number;
}

/** Reconnect delay after the first connection: grows by 100 ms per attempt, capped at 2 s. */
export const reconnectDelay = (retries: number): number => Math.min((retries + 1) * 100, 2000);

/**
 * Before the first connection the client gives up at once, so start-up fails fast; after it, it
 * reconnects forever, so a Redis restart does not end the store.
 */
function newClient(url: string, connectTimeoutMs: number, socketTimeoutMs: number, callTimeoutMs: number) {
  let connectedOnce = false;
  const client = createClient({
    url,
    // While the connection is down, fail calls at once instead of queueing them for the reconnect
    // (a queued call would run at an unknown later time, long after its caller gave up).
    disableOfflineQueue: true,
    // A command not yet written when its caller gives up is dropped, so it never runs late.
    commandOptions: { timeout: callTimeoutMs },
    // node-redis' command timeout only covers commands not yet written; a hung server or a silent
    // network drop would leave written ones pending forever. A socket that stays quiet this long is
    // dropped (failing what is in flight) and reconnected; pings keep a healthy idle one talking.
    pingInterval: Math.floor(socketTimeoutMs / 3),
    socket: {
      connectTimeout: connectTimeoutMs,
      socketTimeout: socketTimeoutMs,
      reconnectStrategy: (retries) => (connectedOnce ? reconnectDelay(retries) : false),
    },
  });
  client.once('ready', () => {
    connectedOnce = true;
  });
  return client;
}

type RedisClient = ReturnType<typeof newClient>;

/** The URL without credentials, for error messages. */
function describeUrl(url: string): string {
  try {
    const { protocol, host } = new URL(url);
    return `${protocol}//${host}`;
  } catch {
    return '(unparseable URL)';
  }
}

/** Readiness checks want a quick answer, well within the 1 s a health check waits. */
const PING_TIMEOUT_MS = 500;

/** What node-redis raises when the connection, not Redis, failed: the server may be unreachable. */
const CONNECTION_ERRORS = [
  AbortError,
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  DisconnectsClientError,
  ReconnectStrategyError,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
  TimeoutError,
];

/** Replies of a Redis that is there but cannot serve yet (loading its AOF, a script running, a failover). */
const NOT_SERVING = /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN)\b/;

/**
 * The connection failed (a node-redis connection error, or a system error of the socket such as
 * ECONNRESET that node-redis passes on as it is) or Redis cannot serve; anything else is a real
 * answer or a bug.
 */
function isUnavailable(err: unknown): boolean {
  if (err instanceof ErrorReply) return NOT_SERVING.test(err.message);
  if (CONNECTION_ERRORS.some((type) => err instanceof type)) return true;
  return typeof (err as NodeJS.ErrnoException | null)?.syscall === 'string';
}

const flatten = (fields: Fields): string[] => Object.entries(fields).flat();

/**
 * The store in Redis, shared by any number of instances. Every change of more than one key is one
 * Lua script (src/store/scripts).
 *
 * Every call fails fast with StoreUnavailableError while the connection is down, and after
 * `callTimeoutMs` when Redis does not answer. A call already sent when that happens may still have
 * run in Redis: callers treat the error as an unknown outcome (the compare-and-set transitions and
 * idempotency keys make a retry safe).
 */
export class RedisStore implements Store {
  private unreachableAt: number | null = null;

  private constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisKeys,
    private readonly callTimeoutMs: number,
  ) {}

  /**
   * Connects, failing fast (within `connectTimeoutMs`) with a clear error when Redis is unreachable;
   * once connected, reconnects with capped backoff (see newClient).
   */
  static async connect(options: RedisStoreOptions): Promise<RedisStore> {
    const { url, prefix = 'wxr', onError = () => {}, connectTimeoutMs = 2000, socketTimeoutMs = 10_000, callTimeoutMs = 1500 } = options;
    const keys = new RedisKeys(prefix);
    const client = newClient(url, connectTimeoutMs, socketTimeoutMs, callTimeoutMs);
    client.on('error', onError); // an unhandled 'error' event would crash the process
    try {
      await client.connect();
    } catch (err) {
      client.destroy();
      const reason = err instanceof Error ? err.message || err.name : String(err);
      throw new Error(`Cannot connect to Redis at ${describeUrl(url)}: ${reason}`, { cause: err });
    }
    return new RedisStore(client, keys, callTimeoutMs);
  }

  /**
   * Runs `work` against Redis within `timeoutMs`. A connection that is down fails at once (also for
   * MULTI, which node-redis would otherwise queue for the reconnect); no answer in time, or a
   * connection lost on the way, fails with StoreUnavailableError.
   */
  private async call<T>(what: string, work: (client: RedisClient) => Promise<T>, timeoutMs = this.callTimeoutMs): Promise<T> {
    try {
      if (!this.client.isReady) throw new StoreUnavailableError(`Redis is not connected (${what})`);
      return await within(work(this.client), timeoutMs, () => {
        throw new StoreUnavailableError(`Redis did not answer ${what} within ${timeoutMs} ms`);
      });
    } catch (err) {
      if (!(err instanceof StoreUnavailableError) && !isUnavailable(err)) throw err;
      this.unreachableAt = Date.now();
      if (err instanceof StoreUnavailableError) throw err;
      throw new StoreUnavailableError(`Redis failed ${what}: ${(err as Error).message || (err as Error).name}`, { cause: err });
    }
  }

  lastUnreachableAt(): number | null {
    return this.unreachableAt;
  }

  /** EVALSHA, falling back to EVAL (which caches the script) when the server does not know it. */
  private run(script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
    const options = { keys, arguments: args };
    return this.call(script.name, async (client) => {
      try {
        return await client.evalSha(script.sha1, options);
      } catch (err) {
        if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
        return client.eval(script.source, options);
      }
    });
  }

  // --- records ---------------------------------------------------------------------------------

  async create(id: string, fields: Fields, history: HistoryEntry, options: CreateOptions): Promise<CreateResult> {
    checkCreateFields(id, fields);
    const { idempotency } = options;
    const keys = [this.keys.record(id), this.keys.history(id), this.keys.due];
    if (idempotency) keys.push(this.keys.idempotency(idempotency.key));
    const reply = await this.run(createRecord, keys, [
      id,
      String(options.ttlSeconds),
      JSON.stringify(history),
      options.dueAt === undefined ? '' : String(options.dueAt),
      idempotency ? JSON.stringify({ id, fingerprint: idempotency.fingerprint }) : '',
      ...flatten(fields),
    ]);
    if (reply === 1) return { created: true };
    if (reply === -1) throw recordExistsError(id);
    const existing = JSON.parse(String(reply)) as { id: string; fingerprint: string };
    return { created: false, existingId: existing.id, fingerprint: existing.fingerprint };
  }

  async get(id: string): Promise<StoredRecord | null> {
    // MULTI: fields and history from the same moment
    const [fields, history] = (await this.call('get', (client) =>
      client.multi().hGetAll(this.keys.record(id)).lRange(this.keys.history(id), 0, -1).exec(),
    )) as unknown as [Fields, string[]];
    if (fields.status === undefined) return null;
    return { fields: { ...fields }, history: history.map((entry) => JSON.parse(entry) as HistoryEntry) };
  }

  /** KEYS and ARGV of a record move (see scripts/record-move.ts), then the script's own. */
  private moveArgs(id: string, move: RecordMove): { keys: string[]; args: string[] } {
    const { from, to, set = {}, expect = {}, history, dueAt } = move;
    const expected = flatten(expect);
    const fields = flatten(set);
    return {
      keys: [this.keys.record(id), this.keys.history(id), this.keys.due],
      args: [
        id,
        to,
        history ? JSON.stringify(history) : '',
        dueAt === undefined ? '' : dueAt === null ? 'off' : String(dueAt),
        String(from.length),
        ...from,
        String(expected.length),
        ...expected,
        String(fields.length),
        ...fields,
      ],
    };
  }

  async move(id: string, move: RecordMove, unparkFrom?: string): Promise<boolean> {
    const { keys, args } = this.moveArgs(id, move);
    if (unparkFrom !== undefined) keys.push(this.keys.parked(unparkFrom));
    return (await this.run(moveRecord, keys, args)) === 1;
  }

  async park(id: string, move: RecordMove, entry: ParkedEntry): Promise<boolean> {
    const { keys, args } = this.moveArgs(id, move);
    keys.push(this.keys.parked(entry.owner));
    return (await this.run(parkRecord, keys, [...args, String(entry.score), String(entry.ttlSeconds)])) === 1;
  }

  async releaseAsReply(id: string, move: RecordMove, owner: string, reply: { pushKey: string; text: string; ttlMs: number }): Promise<boolean> {
    const { keys, args } = this.moveArgs(id, move);
    keys.push(this.keys.parked(owner), this.keys.reply(reply.pushKey));
    return (await this.run(releaseRecordAsReply, keys, [...args, reply.text, String(reply.ttlMs)])) === 1;
  }

  async appendHistory(id: string, entry: HistoryEntry): Promise<void> {
    // RPUSHX: the history list exists exactly as long as the record (same TTL, created together)
    await this.call('appendHistory', (client) => client.rPushX(this.keys.history(id), JSON.stringify(entry)));
  }

  // --- the due schedule ------------------------------------------------------------------------

  async claimDue(now: number, leaseMs: number, limit: number): Promise<string[]> {
    checkLease(leaseMs);
    if (limit <= 0) return [];
    const reply = await this.run(
      claimDue,
      [this.keys.due],
      [String(now), String(now + leaseMs), String(limit), this.keys.record('')],
    );
    return reply as string[];
  }

  async scheduleInfo(): Promise<{ size: number; nextDueAt: number | null }> {
    const [size, first] = (await this.call('scheduleInfo', (client) =>
      client.multi().zCard(this.keys.due).zRangeWithScores(this.keys.due, 0, 0).exec(),
    )) as unknown as [number, { value: string; score: number }[]];
    return { size, nextDueAt: first.length > 0 ? first[0].score : null };
  }

  // --- correlation -----------------------------------------------------------------------------

  async linkMsgid(msgid: string, id: string, ttlSeconds: number): Promise<string | null> {
    const keys = [this.keys.msgid(msgid), this.keys.earlyReceipt(msgid)];
    return (await this.run(linkMsgid, keys, [id, String(ttlSeconds)])) as string | null;
  }

  async resolveMsgid(msgid: string, status: string, ttlSeconds: number): Promise<string | null> {
    const keys = [this.keys.msgid(msgid), this.keys.earlyReceipt(msgid)];
    return (await this.run(resolveMsgid, keys, [status, String(ttlSeconds)])) as string | null;
  }

  // --- de-duplication, values, locks -----------------------------------------------------------

  async firstSeen(key: string, ttlSeconds: number): Promise<boolean> {
    const reply = await this.call('firstSeen', (client) =>
      client.set(this.keys.seen(key), '1', { condition: 'NX', expiration: { type: 'EX', value: ttlSeconds } }),
    );
    return reply === 'OK';
  }

  async forget(key: string): Promise<void> {
    await this.call('forget', (client) => client.del(this.keys.seen(key)));
  }

  async getValue(key: string): Promise<string | null> {
    return this.call('getValue', (client) => client.get(this.keys.value(key)));
  }

  async setValue(key: string, value: string, ttlMs?: number): Promise<void> {
    const expiration = ttlMs === undefined ? undefined : { type: 'PX' as const, value: ttlMs };
    await this.call('setValue', (client) => client.set(this.keys.value(key), value, { expiration }));
  }

  async setValueIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    const reply = await this.call('setValueIfAbsent', (client) =>
      client.set(this.keys.value(key), value, { condition: 'NX', expiration: { type: 'PX', value: ttlMs } }),
    );
    return reply === 'OK';
  }

  async deleteValueIf(key: string, expected: string): Promise<boolean> {
    return (await this.run(deleteIfEqual, [this.keys.value(key)], [expected])) === 1;
  }

  async acquireLock(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const reply = await this.call('acquireLock', (client) =>
      client.set(this.keys.lock(key), owner, { condition: 'NX', expiration: { type: 'PX', value: ttlMs } }),
    );
    return reply === 'OK';
  }

  async releaseLock(key: string, owner: string): Promise<void> {
    await this.run(deleteIfEqual, [this.keys.lock(key)], [owner]);
  }

  // --- hashes and counters ---------------------------------------------------------------------

  async getHash(key: string): Promise<Fields> {
    return { ...((await this.call('getHash', (client) => client.hGetAll(this.keys.hash(key)))) as Fields) };
  }

  async setHash(key: string, fields: Fields): Promise<void> {
    if (Object.keys(fields).length > 0) await this.call('setHash', (client) => client.hSet(this.keys.hash(key), fields));
  }

  async incrementHash(key: string, field: string, by = 1): Promise<number> {
    return this.call('incrementHash', (client) => client.hIncrBy(this.keys.hash(key), field, by));
  }

  // --- customer-service windows -------------------------------------------------------------

  async openWindow(user: string, kind: string, quota: number, expiresAt: number, keepSeconds: number): Promise<void> {
    const key = this.keys.window(user, kind);
    await this.call('openWindow', (client) =>
      client
        .multi()
        .hSet(key, { remaining: String(quota), expiresAt: String(expiresAt) })
        .pExpireAt(key, expiresAt + keepSeconds * 1000)
        .exec(),
    );
  }

  async takeFromWindow(user: string, kinds: readonly string[], now: number): Promise<{ use: WindowUse; kind?: string }> {
    if (kinds.length === 0) return { use: 'unknown' };
    const [use, index] = (await this.run(
      takeFromWindow,
      kinds.map((kind) => this.keys.window(user, kind)),
      [String(now)],
    )) as [WindowUse, number?];
    return index === undefined ? { use } : { use, kind: kinds[index - 1] };
  }

  async giveBackToWindow(user: string, kind: string): Promise<void> {
    await this.run(giveBackToWindow, [this.keys.window(user, kind)], []);
  }

  async getWindow(user: string, kind: string): Promise<WindowState | null> {
    const state = (await this.call('getWindow', (client) => client.hGetAll(this.keys.window(user, kind)))) as Partial<Record<keyof WindowState, string>>;
    if (state.remaining === undefined || state.expiresAt === undefined) return null;
    return { remaining: Number(state.remaining), expiresAt: Number(state.expiresAt) };
  }

  async closeWindows(user: string, kinds: readonly string[], now: number, keepSeconds: number): Promise<void> {
    if (kinds.length === 0) return;
    await this.run(
      closeWindows,
      kinds.map((kind) => this.keys.window(user, kind)),
      [String(now), String(now + keepSeconds * 1000)],
    );
  }

  // --- parked lists ----------------------------------------------------------------------------

  async parkedFor(owner: string, limit: number): Promise<string[]> {
    if (limit <= 0) return [];
    return this.call('parkedFor', (client) => client.zRange(this.keys.parked(owner), 0, limit - 1));
  }

  async forgetParked(owner: string, id: string): Promise<void> {
    await this.call('forgetParked', (client) => client.zRem(this.keys.parked(owner), id));
  }

  // --- push memory -----------------------------------------------------------------------------

  async firstSeenPush(pushKey: string, ttlSeconds: number): Promise<boolean> {
    const reply = await this.call('firstSeenPush', (client) =>
      client.set(this.keys.pushSeen(pushKey), 'claimed', { condition: 'NX', expiration: { type: 'EX', value: ttlSeconds } }),
    );
    return reply === 'OK';
  }

  async renewPushClaim(pushKey: string, ttlSeconds: number): Promise<void> {
    await this.run(renewClaim, [this.keys.pushSeen(pushKey)], [String(ttlSeconds)]);
  }

  async keepPushSeen(pushKey: string, ttlSeconds: number): Promise<void> {
    await this.call('keepPushSeen', (client) => client.set(this.keys.pushSeen(pushKey), 'handled', { expiration: { type: 'EX', value: ttlSeconds } }));
  }

  async pushState(pushKey: string): Promise<'claimed' | 'handled' | null> {
    const state = await this.call('pushState', (client) => client.get(this.keys.pushSeen(pushKey)));
    return state === 'claimed' || state === 'handled' ? state : null;
  }

  async forgetPush(pushKey: string): Promise<void> {
    await this.call('forgetPush', (client) => client.del(this.keys.pushSeen(pushKey)));
  }

  async replyFor(pushKey: string): Promise<string | null> {
    return this.call('replyFor', (client) => client.get(this.keys.reply(pushKey)));
  }

  async botReplyFor(pushKey: string): Promise<string | null> {
    return this.call('botReplyFor', (client) => client.get(this.keys.botReply(pushKey)));
  }

  async rememberBotReply(pushKey: string, xml: string, ttlMs: number): Promise<void> {
    await this.call('rememberBotReply', (client) => client.set(this.keys.botReply(pushKey), xml, { expiration: { type: 'PX', value: ttlMs } }));
  }

  // --- lifecycle -------------------------------------------------------------------------------

  async ping(): Promise<void> {
    await this.call('PING', (client) => client.ping(), PING_TIMEOUT_MS);
  }

  /** Lets calls in flight finish (up to the call timeout), then drops the connection. */
  async close(): Promise<void> {
    if (!this.client.isOpen) return;
    if (this.client.isReady) await this.call('close', (client) => client.close()).catch(() => undefined);
    if (this.client.isOpen) this.client.destroy();
  }
}
