import {
  AbortError,
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  createClient,
  createCluster,
  DisconnectsClientError,
  ErrorReply,
  MaxCommandRedirectionsError,
  ReconnectStrategyError,
  RootNodesUnavailableError,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
  TimeoutError,
} from 'redis';
import { within } from '../deadline';
import type { LuaScript } from './scripts/lua-script';
import { StoreUnavailableError } from './unavailable';

/** One Redis (`url`) or a Redis Cluster (`clusterNodes`, each "host:port"; a few are enough to find the rest). */
export type RedisTarget = { url: string } | { clusterNodes: readonly string[] };

export interface RedisConnectionOptions {
  /** Receives connection errors (of every node of a cluster); the client reconnects by itself. Default: ignored. */
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
 * Options shared by the single client and every node client of a cluster. Before the first
 * connection a client gives up at once, so start-up fails fast; after it, it reconnects forever,
 * so a Redis restart does not end the store.
 */
function clientOptions(connectedOnce: () => boolean, connectTimeoutMs: number, socketTimeoutMs: number) {
  return {
    // While the connection is down, fail calls at once instead of queueing them for the reconnect
    // (a queued call would run at an unknown later time, long after its caller gave up).
    disableOfflineQueue: true,
    // A hung server or a silent network drop would leave commands pending forever (`call` stops
    // waiting for them, but they stay queued). A socket that stays quiet this long is dropped
    // (failing every command written or queued) and reconnected; pings keep a healthy idle one
    // talking. No node-redis command timeout besides (see NO_COMMAND_TIMEOUT).
    pingInterval: Math.floor(socketTimeoutMs / 3),
    socket: {
      connectTimeout: connectTimeoutMs,
      socketTimeout: socketTimeoutMs,
      reconnectStrategy: (retries: number) => (connectedOnce() ? reconnectDelay(retries) : false),
    },
  };
}

/**
 * node-redis gives each command a timeout of its own (5 s unless told), which costs an AbortSignal
 * and a timer per command: 0 turns it off. `call` bounds every call already, and a command its
 * caller gave up on may run anyway once written, so dropping one not yet written adds no guarantee.
 */
const NO_COMMAND_TIMEOUT = { timeout: 0 };

function newClient(url: string, connectedOnce: () => boolean, connectTimeoutMs: number, socketTimeoutMs: number) {
  return createClient({ url, ...clientOptions(connectedOnce, connectTimeoutMs, socketTimeoutMs), commandOptions: NO_COMMAND_TIMEOUT });
}

function newCluster(nodes: { host: string; port: number }[], connectedOnce: () => boolean, connectTimeoutMs: number, socketTimeoutMs: number) {
  return createCluster({
    rootNodes: nodes.map((socket) => ({ socket })),
    // `defaults` is what every node connection is made with (rootNodes only find the topology)
    defaults: clientOptions(connectedOnce, connectTimeoutMs, socketTimeoutMs),
    commandOptions: NO_COMMAND_TIMEOUT,
  });
}

type SingleClient = ReturnType<typeof newClient>;
type ClusterClient = ReturnType<typeof newCluster>;

/**
 * The commands the store uses. node-redis builds the single and the cluster client from the same
 * command table, so both offer them with the same signatures (the cluster routes each by its first
 * key). Transactions (MULTI) differ between the two: the store uses Lua scripts instead.
 */
export type RedisCommands = Pick<
  SingleClient,
  | 'get' | 'set' | 'del' | 'exists' | 'hGetAll' | 'hSet' | 'hIncrBy' | 'rPushX' | 'sAdd' | 'sMembers' | 'zAdd' | 'zCard' | 'zRange' | 'zRangeWithScores' | 'zRem' | 'evalSha' | 'eval'
  // streams (redis-stream.ts)
  | 'xAck' | 'xAdd' | 'xAutoClaim' | 'xGroupCreate' | 'xGroupDelConsumer' | 'xInfoConsumers' | 'xInfoGroups' | 'xPending' | 'xReadGroup' | 'xTrim'
>;

/** "host:port" (or "[v6 address]:port") → socket address; a clear error for anything else. */
export function parseClusterNode(node: string): { host: string; port: number } {
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(node.trim());
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65535) throw new Error(`a Redis Cluster node must be host:port, got "${node}"`);
  return { host: match[1], port };
}

/** The URL without credentials, for error messages. */
function describeUrl(url: string): string {
  try {
    const { protocol, host } = new URL(url);
    return `Redis at ${protocol}//${host}`;
  } catch {
    return 'Redis at (unparseable URL)';
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
  MaxCommandRedirectionsError,
  ReconnectStrategyError,
  RootNodesUnavailableError,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
  TimeoutError,
];

/**
 * Replies of a Redis that is there but cannot serve yet: loading its AOF, a script running, or a
 * cluster in the middle of a failover or a slot move (MOVED and ASK that the cluster client could
 * not follow, TRYAGAIN, CLUSTERDOWN).
 */
const NOT_SERVING = /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|MOVED|ASK)\b/;

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

const reasonOf = (err: unknown) => (err instanceof Error ? err.message || err.name : String(err));

type Connected = { kind: 'single'; client: SingleClient } | { kind: 'cluster'; client: ClusterClient };

/**
 * The store's way to Redis, one server or a cluster. Every call fails fast with
 * StoreUnavailableError while the connection is down, and after `callTimeoutMs` when Redis does not
 * answer. A call already sent when that happens may still have run in Redis: callers treat the
 * error as an unknown outcome (the compare-and-set moves and idempotency keys make a retry safe).
 */
export class RedisConnection {
  private unreachableAt: number | null = null;

  private constructor(
    private readonly connected: Connected,
    private readonly callTimeoutMs: number,
  ) {}

  /**
   * Connects, failing fast (within `connectTimeoutMs`, per node tried) with a clear error when Redis
   * is unreachable or, for a cluster, when not every slot is served; once connected, reconnects
   * with capped backoff.
   */
  static async open(target: RedisTarget, options: RedisConnectionOptions = {}): Promise<RedisConnection> {
    const { onError = () => {}, connectTimeoutMs = 2000, socketTimeoutMs = 10_000, callTimeoutMs = 1500 } = options;
    let connectedOnce = false;
    const once = () => connectedOnce;
    let connected: Connected;
    let where: string;
    const url = 'url' in target ? target.url : undefined;
    const clusterNodes = 'clusterNodes' in target ? target.clusterNodes : undefined;
    if ((url === undefined) === (clusterNodes === undefined)) throw new Error('Redis needs either a url or clusterNodes (not both)');
    if (url !== undefined) {
      connected = { kind: 'single', client: newClient(url, once, connectTimeoutMs, socketTimeoutMs) };
      where = describeUrl(url);
    } else {
      const nodes = clusterNodes!.map(parseClusterNode);
      if (nodes.length === 0) throw new Error('a Redis Cluster needs at least one node (host:port)');
      connected = { kind: 'cluster', client: newCluster(nodes, once, connectTimeoutMs, socketTimeoutMs) };
      where = `the Redis Cluster at ${nodes.map(({ host, port }) => `${host}:${port}`).join(', ')}`;
    }
    const { client } = connected;
    let lastError: unknown;
    const record = (err: Error) => {
      lastError = err;
      onError(err);
    };
    client.on('error', record); // an unhandled 'error' event would crash the process
    if (connected.kind === 'cluster') connected.client.on('node-error', record);
    try {
      // the cluster client tries one root node after the other: allow each its connect timeout
      const allowed = connectTimeoutMs * ((clusterNodes?.length ?? 0) + 1) + callTimeoutMs;
      await within(client.connect() as Promise<unknown>, allowed, () => {
        throw new Error(`no answer within ${allowed} ms`);
      });
      if (connected.kind === 'cluster') checkEverySlotServed(connected.client);
    } catch (err) {
      client.destroy();
      // the cluster client only says that no root node worked: the reason is the error it emitted
      const reason = err instanceof RootNodesUnavailableError && lastError ? `${reasonOf(err)} (${reasonOf(lastError)})` : reasonOf(err);
      throw new Error(`Cannot connect to ${where}: ${reason}`, { cause: err });
    }
    connectedOnce = true;
    return new RedisConnection(connected, callTimeoutMs);
  }

  get isCluster(): boolean {
    return this.connected.kind === 'cluster';
  }

  /**
   * Runs `work` against Redis within `timeoutMs`. A connection that is down fails at once; no
   * answer in time, or a connection lost on the way, fails with StoreUnavailableError.
   */
  async call<T>(what: string, work: (redis: RedisCommands) => Promise<T>, timeoutMs = this.callTimeoutMs): Promise<T> {
    try {
      if (!this.connected.client.isReady) throw new StoreUnavailableError(`Redis is not connected (${what})`);
      return await within(work(this.connected.client), timeoutMs, () => {
        throw new StoreUnavailableError(`Redis did not answer ${what} within ${timeoutMs} ms`);
      });
    } catch (err) {
      if (!(err instanceof StoreUnavailableError) && !isUnavailable(err)) throw err;
      this.unreachableAt = Date.now();
      if (err instanceof StoreUnavailableError) throw err;
      throw new StoreUnavailableError(`Redis failed ${what}: ${reasonOf(err)}`, { cause: err });
    }
  }

  /** EVALSHA, falling back to EVAL (which caches the script) when the server does not know it. */
  run(script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
    const options = { keys, arguments: args };
    return this.call(script.name, async (redis) => {
      try {
        return await redis.evalSha(script.sha1, options);
      } catch (err) {
        if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
        return redis.eval(script.source, options);
      }
    });
  }

  /** When a call last failed because Redis could not be reached (epoch ms), or null. */
  lastUnreachableAt(): number | null {
    return this.unreachableAt;
  }

  /** Throws unless Redis answers PING (on a cluster: every master, as each holds part of the data). */
  async ping(): Promise<void> {
    const { connected } = this;
    await this.call(
      'PING',
      async () => {
        if (connected.kind === 'single') await connected.client.ping();
        else await Promise.all(connected.client.masters.map(async (master) => (await connected.client.nodeClient(master)).ping()));
      },
      PING_TIMEOUT_MS,
    );
  }

  /** Lets calls in flight finish (up to the call timeout), then drops the connection(s). */
  async close(): Promise<void> {
    const { connected } = this;
    const { client } = connected;
    if (!client.isOpen) return;
    // closing waits for every node: with one unreachable, drop them all at once instead
    const healthy = connected.kind === 'single' ? client.isReady : client.isReady && connected.client.masters.every((master) => master.client?.isReady);
    if (healthy) await this.call('close', () => client.close()).catch(() => undefined);
    if (client.isOpen) client.destroy();
  }
}

/** A cluster whose slots are not all assigned (not created yet, or half set up) cannot hold the store. */
function checkEverySlotServed(cluster: ClusterClient): void {
  const { slots } = cluster;
  for (let slot = 0; slot < 16384; slot++) {
    if (!slots[slot]?.master) throw new Error(`slot ${slot} is served by no master (has the cluster been created?)`);
  }
}
