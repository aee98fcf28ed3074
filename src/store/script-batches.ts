import { TickBatch } from '../tick-batch';
import type { RedisConnection } from './redis-connection';
import { runEachItem, type EachItemScript, type ScriptItem } from './scripts/each-item';

/** Calls taken in one script at most; more arriving together go in the next. */
const MAX_BATCH = 128;

/**
 * Group commit of record scripts: the calls of one script for one shard that arrive in the same
 * turn of the event loop (under load, the work of every notice whose WeChat call was answered
 * meanwhile) go to Redis as one call of its eachItem twin, which runs them one after the other,
 * each exactly as alone (a lone call goes as itself: runEachItem). A store call costs both
 * processes far more than one more item in it. Each caller gets its own item's reply once the call
 * is stored; a call that fails fails each of its items (as each alone would have failed: the store
 * away, or a bug).
 */
export class ScriptBatches {
  private readonly batches = new Map<string, TickBatch<ScriptItem, unknown>>();

  constructor(private readonly redis: RedisConnection) {}

  /**
   * `each` (an eachItem script) run for this item with others of `place` (a key of the shard the
   * item's keys are in: the items of one call share a slot).
   */
  run(each: EachItemScript, place: string, keys: string[], args: string[]): Promise<unknown> {
    const name = `${each.name} ${place}`;
    let batch = this.batches.get(name);
    if (batch === undefined) {
      batch = new TickBatch((items) => {
        const replies = runEachItem(this.redis, each, items);
        return items.map((_, i) => replies.then((all) => all[i]));
      }, { max: MAX_BATCH });
      this.batches.set(name, batch);
    }
    return batch.add({ keys, args });
  }
}
