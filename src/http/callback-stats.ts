import { performance } from 'node:perf_hooks';
import type { RequestHandler } from 'express';
import { answerBucket } from '../delivery/answer-histogram';
import type { Logger } from '../log/logger';
import type { DeploymentCounters } from '../store/counter-buckets';
import type { Push } from '../wechat/push';

/** Where an account's last push time is kept (its key-values), for GET /v1/accounts. */
export const LAST_PUSH_KEY = 'last-push-at';
/** The counts of this instance reach the store this often (and before GET /v1/stats/callbacks reads them). */
const FLUSH_MS = 5000;
/** An account's last push time is written at most this often by one instance. */
const LAST_PUSH_EVERY_MS = 60_000;
const MINUTE_MS = 60_000;

/** The push an answer was for, once it was authenticated and parsed. */
export interface PushSeen {
  appid: string;
  push: Push;
}

/** A push's kind as the statistics name it: `receipt`, the message type (`text`…), or `event.<Event>`. */
function pushKind(push: Push): string {
  let kind: string;
  switch (push.kind) {
    case 'receipt':
      kind = 'receipt';
      break;
    case 'message':
      kind = push.msgType;
      break;
    case 'subscribe':
    case 'unsubscribe':
      kind = `event.${push.kind}`;
      break;
    case 'scan':
      kind = 'event.SCAN';
      break;
    case 'menu_click':
      kind = `event.${push.event}`;
      break;
    case 'other':
      kind = push.event ? `event.${push.event}` : push.msgType;
  }
  // names WeChat chose: kept only when they are plain (a counter name holds no `|`)
  return /^[A-Za-z0-9_.]{1,40}$/.test(kind) ? kind : 'other';
}

export interface CallbackStatsOptions {
  counters: DeploymentCounters;
  /** How long the counters are kept. */
  keepSeconds: number;
  /** Records the time of an account's latest push (ISO). */
  markPush(appid: string, at: string): Promise<void>;
  log: Logger;
  now?: () => number;
}

/**
 * Times each answer to a POST under /wechat (from the request reaching wxreach to the answer
 * written) and counts the pushes by kind: the /wechat edge tells `answered` of each of its answers,
 * `middleware` times the rest (the platform's pushes). Per answer it only adds to counts in memory, by minute:
 * `answers`, the histogram bucket `le.<ms>` (see answer-histogram.ts) and `kind.<kind>`; every
 * FLUSH_MS one script adds them to the deployment's counters. A flush that fails keeps its counts
 * for the next one.
 */
export class CallbackStats {
  private pending = new Map<number, Record<string, number>>();
  /** Accounts' latest push times not yet written, and when each was last written. */
  private lastPush = new Map<string, number>();
  private readonly written = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private readonly now: () => number;

  constructor(private readonly o: CallbackStatsOptions) {
    this.now = o.now ?? Date.now;
  }

  readonly middleware: RequestHandler = (req, res, next) => {
    if (req.method !== 'POST') return next();
    const started = performance.now();
    res.once('finish', () => this.answered(performance.now() - started, undefined));
    next();
  };

  /** An answer given `ms` after its request came, to `seen` when it was a push (counted by its kind). */
  answered(ms: number, seen: PushSeen | undefined): void {
    const at = this.now();
    const minute = Math.floor(at / MINUTE_MS) * MINUTE_MS;
    let counts = this.pending.get(minute);
    if (!counts) this.pending.set(minute, (counts = {}));
    const add = (counter: string) => (counts[counter] = (counts[counter] ?? 0) + 1);
    add('answers');
    add(answerBucket(ms));
    if (seen) {
      add(`kind.${pushKind(seen.push)}`);
      this.lastPush.set(seen.appid, at);
    }
  }

  /** Hands what this instance counted to the store. */
  async flush(): Promise<void> {
    const pending = this.pending;
    this.pending = new Map();
    for (const [minute, counts] of pending) {
      try {
        await this.o.counters.addCounters(minute, counts, this.o.keepSeconds);
      } catch (err) {
        this.keep(minute, counts);
        this.o.log.warn('callback statistics not stored; kept for the next try', { err });
      }
    }
    const now = this.now();
    for (const [appid, at] of this.lastPush) {
      if (now - (this.written.get(appid) ?? 0) < LAST_PUSH_EVERY_MS) continue;
      this.lastPush.delete(appid);
      this.written.set(appid, now);
      await this.o.markPush(appid, new Date(at).toISOString()).catch((err: unknown) => this.o.log.warn('last push time not stored', { account: appid, err }));
    }
  }

  private keep(minute: number, counts: Record<string, number>): void {
    const mine = this.pending.get(minute) ?? {};
    for (const [counter, n] of Object.entries(counts)) mine[counter] = (mine[counter] ?? 0) + n;
    this.pending.set(minute, mine);
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  /** Stops the timer and flushes what is left. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }
}
