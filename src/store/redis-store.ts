import { checkAccount, DEFAULT_SHARDS_PER_ACCOUNT, RecordIds } from './record-ids';
import { RedisAccountStore } from './redis-account-store';
import { RedisConnection, type RedisConnectionOptions, type RedisTarget } from './redis-connection';
import { RedisDeploymentCounters } from './redis-counters';
import { ScriptBatches } from './script-batches';
import { DEFAULT_INDEX_SWEEP_INTERVAL_MS, RedisDueSchedule } from './redis-due-schedule';
import { RedisKeyValues } from './redis-key-values';
import { RedisKeys } from './redis-keys';
import { RedisStreams } from './redis-stream';
import type { DeploymentCounters } from './counter-buckets';
import type { AccountStore, DueWork, EntryStreams, KeyValueStore, Store } from './store';
import { RedisOutboxes } from './redis-outboxes';
import { RedisWebhookStore } from './redis-webhook-store';
import type { WebhookStore } from './webhook-store';

export type RedisStoreOptions = RedisTarget &
  RedisConnectionOptions & {
    /** Namespace of every key (see RedisKeys). Default 'wxr'. */
    prefix?: string;
    /**
     * Shards each account's users are spread over (1 to 256). Default 8. It must never change for a
     * deployment that has data: a user's records, parked list, windows and pushes are in their shard.
     */
    shardsPerAccount?: number;
    /** How often the due index and the outbox index are swept (see RedisDueSchedule, RedisOutboxes). Default 30 000 ms. */
    indexSweepIntervalMs?: number;
  };

/**
 * The store in Redis or a Redis Cluster, shared by any number of instances. Every change of more
 * than one key is one Lua script (src/store/scripts) on keys of one hash tag (see RedisKeys).
 */
export class RedisStore implements Store {
  readonly deployment: KeyValueStore;
  readonly streams: EntryStreams;
  readonly webhooks: WebhookStore;
  readonly counters: DeploymentCounters;
  /** The record scripts of every account, gathered per shard (the accounts' stores are views). */
  private readonly batches: ScriptBatches;

  private constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly ids: RecordIds,
    private readonly schedule: RedisDueSchedule,
    private readonly outboxes: RedisOutboxes,
  ) {
    this.deployment = new RedisKeyValues(redis, keys.deployment);
    this.streams = new RedisStreams(redis, keys);
    this.webhooks = new RedisWebhookStore(redis, keys, outboxes);
    this.counters = new RedisDeploymentCounters(redis, keys.deployment);
    this.batches = new ScriptBatches(redis);
  }

  /**
   * Connects to one Redis (`url`) or a cluster (`clusterNodes`), failing fast with a clear error
   * when it is unreachable; once connected, reconnects by itself (see RedisConnection).
   */
  static async connect(options: RedisStoreOptions): Promise<RedisStore> {
    const { prefix = 'wxr', shardsPerAccount = DEFAULT_SHARDS_PER_ACCOUNT, indexSweepIntervalMs = DEFAULT_INDEX_SWEEP_INTERVAL_MS } = options;
    const keys = new RedisKeys(prefix);
    const ids = new RecordIds(shardsPerAccount);
    const redis = await RedisConnection.open(options, options);
    return new RedisStore(redis, keys, ids, new RedisDueSchedule(redis, keys, ids.shards, indexSweepIntervalMs), new RedisOutboxes(redis, keys, ids.shards, indexSweepIntervalMs));
  }

  forAccount(appid: string): AccountStore {
    checkAccount(appid);
    return new RedisAccountStore(this.redis, this.keys, this.ids, this.schedule, this.outboxes, this.batches, appid);
  }

  accountOfId(id: string): string | null {
    return this.ids.parse(id)?.account ?? null;
  }

  claimDue(now: number, leaseMs: number, limit: number): Promise<DueWork[]> {
    return this.schedule.claimDue(now, leaseMs, limit);
  }

  scheduleInfo(): Promise<{ size: number; nextDueAt: number | null }> {
    return this.schedule.scheduleInfo();
  }

  ping(): Promise<void> {
    return this.redis.ping();
  }

  lastUnreachableAt(): number | null {
    return this.redis.lastUnreachableAt();
  }

  close(): Promise<void> {
    return this.redis.close();
  }
}
