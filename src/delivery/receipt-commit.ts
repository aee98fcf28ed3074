import type { Logger } from '../log/logger';
import type { AccountMetrics } from '../metrics/metrics';
import type { AccountStore, MsgidReceipt, ReceiptApplied } from '../store/store';
import { receiptOutcome, type Push } from '../wechat/push';
import { announceMove, MOVES, recordMove, type MoveChange, type MoveName, type Status } from './lifecycle';

export type ReceiptPush = Extract<Push, { kind: 'receipt' }>;

/**
 * Receipts taken in one store call at most; more arriving together go in the next. Bounds the
 * time one script holds Redis (about 20 µs a receipt).
 */
const MAX_BATCH = 128;

/**
 * What a receipt does to its notice: success delivers it; anything else hands it to the
 * customer-service text, due at once. The one wording of both, whichever way the receipt came.
 */
export function receiptMove(msgid: string, status: string, now: number): { name: MoveName; change: MoveChange } {
  const set = { msgid, channel: 'template' };
  const receipt = receiptOutcome(status);
  if (status === 'success') return { name: 'delivered', change: { detail: `receipt for msgid ${msgid}: ${status}`, set, dueAt: null, receipt } };
  return {
    name: 'templateFailed',
    change: { detail: `template path failed: receipt for msgid ${msgid}: ${status}`, set: { ...set, reason: `receipt: ${status}` }, dueAt: now, receipt },
  };
}

/** History lines of a receipt that changes nothing. */
export const receiptNotes = (msgid: string, status: string) => ({
  foreign: `receipt for msgid ${msgid} from another user ignored; changed nothing`,
  late: `late receipt for msgid ${msgid}: ${status}; changed nothing`,
});

interface Waiting {
  push: ReceiptPush;
  resolve(workDue: boolean): void;
  reject(err: unknown): void;
}

/**
 * Group commit of an account's TEMPLATESENDJOBFINISH receipts: those that arrive in the same turn
 * of the event loop (under load, every request parsed meanwhile) go to the store as one call,
 * each applied there in one atomic step (dedupe, msgid → notice, the move with its history, event
 * and schedule, or the stash for a send not recorded yet). Each caller is answered only once its
 * own step is stored; a failed call fails every receipt in it (WeChat sends them again, or the
 * push journal keeps them).
 */
export class ReceiptCommit {
  private waiting: Waiting[] = [];
  private scheduled = false;

  constructor(
    private readonly store: Pick<AccountStore, 'applyReceipts'>,
    private readonly metrics: Pick<AccountMetrics, 'pushReceived' | 'statusChanged'>,
    private readonly log: Logger,
    private readonly msgidSeconds: number,
    /** How long a handled receipt is remembered, so WeChat's re-sends of it change nothing (the push intake's window). */
    private readonly seenSeconds: number,
    /** How long the statistics' counters are kept. */
    private readonly statsKeepSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Applies the receipt; resolves with whether work became due (the fallback) once it is stored. */
  apply(push: ReceiptPush): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.waiting.push({ push, resolve, reject });
      if (this.waiting.length >= MAX_BATCH) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.flush();
        });
      }
    });
  }

  private flush(): void {
    const batch = this.waiting;
    if (batch.length === 0) return;
    this.waiting = [];
    const at = this.now();
    const moves = batch.map(({ push }) => receiptMove(push.msgid, push.status, at));
    const receipts = batch.map(({ push }, i) => this.receiptOf(push, moves[i], at));
    let applied: Promise<ReceiptApplied>[];
    try {
      applied = this.store.applyReceipts(receipts);
    } catch (err) {
      for (const w of batch) w.reject(err);
      return;
    }
    void Promise.allSettled(applied).then((settled) => {
      settled.forEach((s, i) => {
        if (s.status === 'rejected') batch[i].reject(s.reason);
        else batch[i].resolve(this.settled(batch[i].push, moves[i], s.value));
      });
    });
  }

  private receiptOf(push: ReceiptPush, { name, change }: ReturnType<typeof receiptMove>, at: number): MsgidReceipt {
    const rule = MOVES[name];
    const iso = new Date(at).toISOString();
    // the template is read from the record in the same step (the receipt names only the msgid)
    const move = recordMove(name, {}, change, { from: rule.from, to: rule.to as Status, at, statsKeepSeconds: this.statsKeepSeconds });
    return {
      user: push.openid,
      pushKey: push.dedupeKey,
      seenSeconds: this.seenSeconds,
      msgid: push.msgid,
      status: push.status,
      stashSeconds: this.msgidSeconds,
      move,
      notes: { at: iso, ...receiptNotes(push.msgid, push.status) },
    };
  }

  /** Logs and metrics of one stored receipt; true when work became due. */
  private settled(push: ReceiptPush, { name, change }: ReturnType<typeof receiptMove>, applied: ReceiptApplied): boolean {
    this.metrics.pushReceived('receipt', applied.result === 'duplicate');
    const { msgid, status } = push;
    switch (applied.result) {
      case 'stashed':
        this.log.info('receipt before its send was recorded; kept for it', { msgid, status });
        return false;
      case 'foreign':
        this.log.warn('receipt from another user ignored', { id: applied.id, msgid, sender: push.openid });
        return false;
      case 'moved':
        announceMove(this.log, this.metrics, { id: applied.id, name, to: MOVES[name].to as Status, detail: change.detail });
        return push.outcome !== 'success';
      default:
        return false;
    }
  }
}
