import type { Logger } from '../log/logger';
import type { AccountMetrics } from '../metrics/metrics';
import type { TallyCounter } from '../store/counter-buckets';
import type { Fields, MsgidLink, NotificationRecords, ParkedLists, RecordMove } from '../store/store';
import { packCall, type WechatCall } from './wechat-call';
import type { ReceiptOutcome } from '../wechat/push';

/**
 * The lifecycle of a notice: its statuses and every move between them, by name. Nothing else in
 * wxreach changes a status. Each move is one atomic compare-and-set in the store that also
 * records its fields, its history line and the notice's place on the schedule (and, for parking,
 * the user's list of parked notices), so a duplicate receipt, a late claim or a second instance
 * that comes second changes nothing.
 */

/** The one status vocabulary shared by the API, the logs, the history and the metrics. */
export const STATUSES = [
  'queued',
  'awaiting_receipt',
  'fallback_pending',
  'awaiting_interaction',
  'delivered',
  'fallback_sent',
  'failed',
] as const;

export type Status = (typeof STATUSES)[number];

export const TERMINAL: ReadonlySet<Status> = new Set(['delivered', 'fallback_sent', 'failed']);

const OPEN: readonly Status[] = STATUSES.filter((s) => !TERMINAL.has(s));

export type Channel = 'template' | 'customer_service' | 'passive_reply';

/** `same`: the status stays; the move changes fields or the schedule only. */
type Target = Status | 'same';

/** What the statistics count a move as (see `counts` in MOVES). */
type Counts = (change: MoveChange, n: Pick<Subject, 'template' | 'parkedUntil'>) => readonly TallyCounter[];

/** The receipt's counter; `none`: no receipt by the deadline. */
const receiptCounter = (change: MoveChange): string => `receipt.${change.receipt ?? 'success'}`;

/**
 * A receipt decides a template that was sent. One applied while the notice was still `queued`
 * (it beat the recording of the send) also counts the send, which then never moves.
 */
const receiptCounters = (change: MoveChange): TallyCounter[] =>
  change.receipt === 'none' ? ['receipt.none'] : [{ name: 'template.sent', onlyFrom: 'queued' }, receiptCounter(change)];

/** `failed.<reason>` with the reason's code (`customer_service_refused: errcode 1` → `customer_service_refused`). */
const failedCounter = (change: MoveChange): string => `failed.${/^[a-z0-9_]+/.exec(change.set?.reason ?? '')?.[0] ?? 'unknown'}`;

/**
 * The table of allowed moves: what may happen to a notice in each status. A move from any other
 * status is refused (returns false, changes nothing). `counts`: the counters of the statistics
 * the move adds in the same atomic step (per account, template and time bucket; GET /v1/stats).
 * Counter names never hold `|`.
 */
export const MOVES = {
  /** Template leg: WeChat accepted the template message (it has a msgid); wait for the receipt. */
  sent: { from: ['queued'], to: 'awaiting_receipt', counts: () => ['template.sent'] },
  /** Template leg: the receipt said success (or no receipt came and the policy assumes delivery). */
  delivered: { from: ['queued', 'awaiting_receipt'], to: 'delivered', counts: (c) => [...receiptCounters(c), 'delivered'] },
  /** Template leg: unusable, refused, failed receipt or no receipt: on to the customer-service text. */
  templateFailed: { from: ['queued', 'awaiting_receipt'], to: 'fallback_pending', counts: (c) => (c.receipt ? receiptCounters(c) : ['template.refused']) },
  /** Customer-service leg: this worker starts the one call (the marker makes it at most once). */
  callStarted: { from: ['fallback_pending'], to: 'same' },
  /** Customer-service leg: WeChat accepted the text (so the user's window was open). */
  fallbackSent: { from: ['fallback_pending'], to: 'fallback_sent', counts: () => ['fallback_sent.customer_service', 'window.open'] },
  /** Parking: the window is closed; keep the text for the user's next interaction (`parked` the first time only). */
  park: { from: ['fallback_pending'], to: 'awaiting_interaction', counts: (_c, n) => (n.parkedUntil === undefined ? ['window.closed', 'parked'] : ['window.closed']) },
  /** Parking: the user is back; send through customer service. */
  release: { from: ['awaiting_interaction'], to: 'fallback_pending' },
  /** Parking: the user is back; the text is the passive reply to that very push. */
  releaseAsReply: { from: ['awaiting_interaction'], to: 'fallback_sent', counts: () => ['fallback_sent.passive_reply'] },
  /** Parking: the user did not come back in time. */
  expire: { from: ['awaiting_interaction'], to: 'failed', counts: (c) => [failedCounter(c)] },
  /** Neither path can reach the user (the reason says why). */
  fail: { from: OPEN, to: 'failed', counts: (c) => [failedCounter(c)] },
  /** Not now: a retry, a wait for WeChat, a deadline still ahead, an internal error; same status, new due time. */
  retryLater: { from: OPEN, to: 'same' },
  /** A terminal notice found on the schedule (a stale claim): take it off. */
  unschedule: { from: [...TERMINAL], to: 'same' },
} as const satisfies Record<string, { from: readonly Status[]; to: Target; counts?: Counts }>;

export type MoveName = keyof typeof MOVES;

/** Arriving in these statuses is an event for the status webhooks (`notification.<status>`), recorded with the move. */
export const EVENT_STATUSES: ReadonlySet<Status> = new Set(['awaiting_interaction', 'delivered', 'fallback_sent', 'failed']);

/** What an event keeps of the notice: what its GET view shows and whose it is, never the business data. */
export const EVENT_FIELDS = ['status', 'openid', 'template', 'templateId', 'msgid', 'channel', 'reason', 'text', 'client'] as const;

/**
 * What an account's moves record besides their change: the counters kept this long, and a move's
 * webhook event only when some endpoint may want it (`eventWanted`, see
 * EndpointRegistry.mayWant): with no endpoint for the account, its notices write no events for the
 * fan-out to read and drop.
 */
export interface MoveRecording {
  statsKeepSeconds: number;
  eventWanted(type: string): boolean;
}

/** A MoveRecording; without `eventWanted`, every move's event is recorded (no endpoints known to leave any out). */
export const moveRecording = (statsKeepSeconds: number, eventWanted: (type: string) => boolean = () => true): MoveRecording => ({ statsKeepSeconds, eventWanted });

/** What a move records besides the status. */
export interface MoveChange {
  /** History line; null for moves that leave no trace (bookkeeping). */
  detail: string | null;
  /** Fields set with the move ('' clears one). */
  set?: Fields;
  /** Further compare-and-set conditions on fields ('' = absent). */
  expect?: Fields;
  /** New due time; null takes the notice off the schedule; undefined leaves it. */
  dueAt?: number | null;
  /** The WeChat call behind the move, kept with its history line. */
  call?: WechatCall;
  /** A move the template's receipt decided: what it said (`none`: no receipt by the deadline), for the statistics. */
  receipt?: ReceiptOutcome | 'none';
}

/**
 * The history line of a move that repeats (a wait, a recheck): the first time only, so a long wait
 * leaves one line per cause, not one per try.
 */
export function unlessRepeated(n: { history: ReadonlyArray<{ detail: string }> }, detail: string): string | null {
  return n.history.at(-1)?.detail === detail ? null : detail;
}

/** Moves out of `awaiting_interaction`: they take the notice off its user's parked list in the same step. */
const UNPARKING: ReadonlySet<MoveName> = new Set(['release', 'expire', 'fail']);

export interface MoveOptions {
  /** Narrows the table's from-statuses, e.g. to the status the caller read. */
  from?: readonly Status[];
  /** releaseAsReply: the text is remembered as the reply to push `key` for WeChat's re-sends of it, in the same step. */
  reply?: { key: string; text: string; ttlMs: number };
  /**
   * sent: the msgid is linked to the notice in the same step, before the move (so a receipt finds
   * its notice at any moment); `linked` is told the receipt status that came before the link, or null.
   */
  link?: MsgidLink & { linked(early: string | null): void };
}

/**
 * The notice as a move needs it: `status` for 'same' moves, `createdAt` to order a parked one;
 * `template` and `parkedUntil` for the statistics (a missing template is read from the record).
 */
export interface Subject {
  id: string;
  openid: string;
  status?: Status;
  createdAt?: number;
  template?: string;
  parkedUntil?: number;
}

/**
 * The store's change for move `name` of notice `n` from `from` to `to` at `at`: its fields, its
 * history line (with the WeChat call behind it), its webhook event and its counters. The one
 * place that turns a move into a store change; the receipts' group commit builds theirs here too.
 */
export function recordMove(
  name: MoveName,
  n: Pick<Subject, 'template' | 'parkedUntil'>,
  change: MoveChange,
  o: { from: readonly Status[]; to: Status; at: number },
  recording: MoveRecording,
): RecordMove {
  const rule = MOVES[name];
  const { from, to, at } = o;
  const counters = 'counts' in rule ? (rule.counts as Counts)(change, n) : [];
  const eventType = rule.to !== 'same' && EVENT_STATUSES.has(to) ? `notification.${to}` : null;
  return {
    from,
    to,
    set: change.set,
    expect: change.expect,
    dueAt: change.dueAt,
    history:
      change.detail === null
        ? undefined
        : { at: new Date(at).toISOString(), status: to, detail: change.detail, ...(change.call ? { call: packCall(change.call) } : {}) },
    event: eventType !== null && recording.eventWanted(eventType) ? { type: eventType, at, fields: EVENT_FIELDS } : undefined,
    tally: counters.length > 0 ? { at, subject: n.template ?? { field: 'template' }, counters, keepSeconds: recording.statsKeepSeconds } : undefined,
  };
}

/**
 * What a move that happened leaves behind in this process: its log line (one per status change,
 * none for bookkeeping moves without a history line) and the status metric.
 */
export function announceMove(
  log: Logger,
  metrics: Pick<AccountMetrics, 'statusChanged'>,
  m: { id: string; name: MoveName; to: Status; detail: string | null },
): void {
  if (m.detail !== null) log.info('notification status', { id: m.id, status: m.to, move: m.name, detail: m.detail });
  if (MOVES[m.name].to !== 'same') metrics.statusChanged(m.to);
}

/**
 * Carries out the moves of MOVES, and reads the parked lists they keep. `move` returns whether
 * the move happened (false: the notice was not in a from-status, or a condition failed).
 */
export class Lifecycle {
  constructor(
    private readonly store: Pick<NotificationRecords, 'move' | 'park' | 'releaseAsReply' | 'moveLinkingMsgid' | 'appendHistory'> & ParkedLists,
    private readonly log: Logger,
    private readonly metrics: Pick<AccountMetrics, 'statusChanged'>,
    private readonly retentionSeconds: number,
    private readonly recording: MoveRecording,
    private readonly now: () => number = Date.now,
  ) {}

  async move(name: MoveName, n: Subject, change: MoveChange, options: MoveOptions = {}): Promise<boolean> {
    const rule = MOVES[name];
    const ruleFrom: readonly Status[] = rule.from;
    const allowed = options.from ? options.from.filter((s) => ruleFrom.includes(s)) : ruleFrom;
    if (allowed.length === 0) return false;
    const same = rule.to === 'same';
    // A 'same' move keeps the status the notice has: the one read, else each allowed one in turn.
    const targets: readonly Status[] = same ? (n.status && allowed.includes(n.status) ? [n.status] : allowed) : [rule.to as Status];
    for (const to of targets) {
      const move = recordMove(name, n, change, { from: same ? [to] : allowed, to, at: this.now() }, this.recording);
      if (!(await this.apply(name, n, move, options))) continue;
      announceMove(this.log, this.metrics, { id: n.id, name, to, detail: change.detail });
      return true;
    }
    return false;
  }

  /**
   * The store call of a move: parking and the passive reply change the user's parked list (and the
   * reply) in the same step, as a link does the msgid's.
   */
  private async apply(name: MoveName, n: Subject, move: RecordMove, options: MoveOptions): Promise<boolean> {
    if (name === 'park') {
      // its place among its user's parked notices is its age; among the account's, when the park ends (when it is due)
      if (n.createdAt === undefined || typeof move.dueAt !== 'number') throw new Error("park needs the notice's createdAt and a due time (its places among the parked)");
      return this.store.park(n.id, move, { owner: n.openid, score: n.createdAt, ttlSeconds: this.retentionSeconds, until: move.dueAt });
    }
    if (name === 'releaseAsReply') {
      if (!options.reply) throw new Error('releaseAsReply needs the reply it becomes');
      const { key, text, ttlMs } = options.reply;
      return this.store.releaseAsReply(n.id, move, n.openid, { pushKey: key, text, ttlMs });
    }
    if (options.link) {
      const { moved, early } = await this.store.moveLinkingMsgid(n.id, move, options.link);
      options.link.linked(early);
      return moved;
    }
    return this.store.move(n.id, move, UNPARKING.has(name) ? n.openid : undefined);
  }

  /** A history line for an event that changes nothing (a late or foreign receipt). */
  async note(n: { id: string; status: Status }, detail: string): Promise<void> {
    await this.store.appendHistory(n.id, { at: new Date(this.now()).toISOString(), status: n.status, detail });
  }

  /** Ids of the notices parked for this user, oldest first. */
  parkedFor(openid: string, limit: number): Promise<string[]> {
    return this.store.parkedFor(openid, limit);
  }

  /** Drops a stale entry of the parked list (the notice moved on by another way). */
  forgetParked(openid: string, id: string): Promise<void> {
    return this.store.forgetParked(openid, id);
  }
}
