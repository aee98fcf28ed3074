import { ErrorReply } from 'redis';
import type { RedisCommands, RedisConnection } from './redis-connection';
import { deadLetterStream, type RedisKeys } from './redis-keys';
import type { EntryStreams, Fields, StreamEntry, StreamGroup } from './store';

/** A stream entry as node-redis gives it; `message` is null for an entry deleted while pending. */
type RawEntry = { id: string; message: Record<string, string> | null } | null;

const isGroupMissing = (err: unknown) => err instanceof ErrorReply && err.message.startsWith('NOGROUP');
const isKeyMissing = (err: unknown) => err instanceof ErrorReply && /no such key/i.test(err.message);

/** Stream ids compared as numbers (`<ms>-<seq>`; a bare `<ms>` is `<ms>-0`). */
function parseId(id: string): [bigint, bigint] {
  const [ms, seq = '0'] = id.split('-');
  return [BigInt(ms), BigInt(seq)];
}
const compareIds = (a: string, b: string): number => {
  const [am, as] = parseId(a);
  const [bm, bs] = parseId(b);
  return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1;
};
const idAfter = (id: string): string => {
  const [ms, seq] = parseId(id);
  return `${ms}-${seq + 1n}`;
};

/**
 * Redis Streams on the store's connection. Each command names one stream key, so on a Redis
 * Cluster every one goes to the master of that key. None blocks (no BLOCK option): a blocking read
 * would hold the connection every other store call shares, so readers poll.
 */
export class RedisStreams implements EntryStreams {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
  ) {}

  group(stream: string | null, group: string): StreamGroup {
    return new RedisStreamGroup(this.redis, stream ?? this.keys.intakeStream, group);
  }
}

class RedisStreamGroup implements StreamGroup {
  readonly deadLetters: string;

  constructor(
    private readonly redis: RedisConnection,
    readonly stream: string,
    private readonly group: string,
  ) {
    this.deadLetters = deadLetterStream(stream);
  }

  readNew(consumer: string, count: number): Promise<StreamEntry[]> {
    return this.read(consumer, count, '>');
  }

  readOwnPending(consumer: string, count: number): Promise<StreamEntry[]> {
    return this.read(consumer, count, '0');
  }

  async claimIdle(consumer: string, idleMs: number, count: number, cursor: string): Promise<{ entries: StreamEntry[]; cursor: string }> {
    const reply = await this.withGroup('XAUTOCLAIM', (redis) => redis.xAutoClaim(this.stream, this.group, consumer, idleMs, cursor, { COUNT: count }));
    // entries deleted from the stream while pending are dropped from the pending list by XAUTOCLAIM itself
    return { entries: present(reply.messages as RawEntry[]), cursor: reply.nextId };
  }

  async acknowledge(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.redis.call('XACK', (redis) => redis.xAck(this.stream, this.group, [...ids]));
  }

  async appendDeadLetter(fields: Fields): Promise<void> {
    await this.redis.call('XADD', (redis) => redis.xAdd(this.deadLetters, '*', fields));
  }

  /**
   * Everything before the group's oldest pending entry, up to and including the last entry it was
   * handed, has been acknowledged: that part, as far as it is older than `before`, is removed.
   */
  async trimAcknowledged(before: number): Promise<void> {
    const groups = await this.redis.call('XINFO GROUPS', (redis) => redis.xInfoGroups(this.stream)).catch((err: unknown) => {
      if (isKeyMissing(err)) return [];
      throw err;
    });
    const mine = (groups as Array<Record<string, unknown>>).find((g) => g.name === this.group);
    if (!mine) return;
    const pending = await this.redis.call('XPENDING', (redis) => redis.xPending(this.stream, this.group));
    const limits = [idAfter(String(mine['last-delivered-id'])), `${before}-0`, ...(pending.firstId ? [pending.firstId] : [])];
    const cut = limits.reduce((a, b) => (compareIds(a, b) <= 0 ? a : b));
    if (compareIds(cut, '0-1') <= 0) return;
    await this.redis.call('XTRIM', (redis) => redis.xTrim(this.stream, 'MINID', cut));
  }

  async leave(consumer: string): Promise<boolean> {
    const consumers = await this.redis.call('XINFO CONSUMERS', (redis) => redis.xInfoConsumers(this.stream, this.group)).catch((err: unknown) => {
      if (isGroupMissing(err) || isKeyMissing(err)) return [];
      throw err;
    });
    const me = (consumers as Array<{ name: string; pending: number }>).find((c) => c.name === consumer);
    // a consumer removed with entries pending would take them out of the pending list: they would never be read again
    if (!me || me.pending > 0) return false;
    await this.redis.call('XGROUP DELCONSUMER', (redis) => redis.xGroupDelConsumer(this.stream, this.group, consumer));
    return true;
  }

  private async read(consumer: string, count: number, from: '>' | '0'): Promise<StreamEntry[]> {
    const reply = await this.withGroup('XREADGROUP', (redis) => redis.xReadGroup(this.group, consumer, { key: this.stream, id: from }, { COUNT: count }));
    const raw = (reply?.[0]?.messages ?? []) as RawEntry[];
    // Pending entries deleted from the stream come back without fields: nothing to hand out, nothing to wait for.
    const gone = raw.filter((e) => e !== null && e.message === null).map((e) => e!.id);
    await this.acknowledge(gone);
    return present(raw);
  }

  /**
   * A group command; when the group (or the stream) does not exist yet, the group is created at the
   * stream's beginning, so entries added before any reader ever started are read, and the command
   * is sent again.
   */
  private async withGroup<T>(what: string, command: (redis: RedisCommands) => Promise<T>): Promise<T> {
    try {
      return await this.redis.call(what, command);
    } catch (err) {
      if (!isGroupMissing(err)) throw err;
      await this.redis
        .call('XGROUP CREATE', (redis) => redis.xGroupCreate(this.stream, this.group, '0', { MKSTREAM: true }))
        .catch((created: unknown) => {
          // another instance created it in the meantime
          if (!(created instanceof ErrorReply && created.message.startsWith('BUSYGROUP'))) throw created;
        });
      return this.redis.call(what, command);
    }
  }
}

function present(raw: RawEntry[]): StreamEntry[] {
  return raw.filter((e): e is { id: string; message: Record<string, string> } => e !== null && e.message !== null).map((e) => ({ id: e.id, fields: e.message }));
}
