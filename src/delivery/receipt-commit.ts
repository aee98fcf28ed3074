import type { Logger } from '../log/logger';
import type { AccountMetrics } from '../metrics/metrics';
import type { AccountStore, MsgidReceipt, ReceiptApplied } from '../store/store';
import { TickBatch } from '../tick-batch';
import { receiptOutcome, type Push } from '../wechat/push';
import { announceMove, MOVES, recordMove, type MoveChange, type MoveName, type MoveRecording, type Status } from './lifecycle';

export type ReceiptPush = Extract<Push, { kind: 'receipt' }>;

/**
 * Receipts taken in one store call at most; more arriving together go in the next. Bounds the
 * time one script holds Redis (about 20 µs a receipt).
 */
const MAX_BATCH = 128;

/**
 * A receipt waits this long for others before its store call goes: a store call costs both
 * processes far more CPU than one more receipt in it. On the 2-core machine at 2,000 receipts/s,
 * over A/B runs: 275–305 µs of wxreach's CPU per receipt each alone, 206–272 gathered for 2 ms
 * (Redis's 137 → 93–119 in the first runs), for 2 ms more on each answer (WeChat waits 5 s).
 */
const GATHER_MS = 2;

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

/**
 * Group commit of an account's TEMPLATESENDJOBFINISH receipts: those that arrive within GATHER_MS
 * of each other (under load, every request parsed meanwhile) go to the store as one call,
 * each applied there in one atomic step (dedupe, msgid → notice, the move with its history, event
 * and schedule, or the stash for a send not recorded yet). Each caller is answered only once its
 * own step is stored; a failed call fails every receipt in it (WeChat sends them again, or the
 * push journal keeps them).
 */
export class ReceiptCommit {
  private readonly batches = new TickBatch((pushes: ReceiptPush[]) => this.flush(pushes), { max: MAX_BATCH, gatherMs: GATHER_MS });

  constructor(
    private readonly store: Pick<AccountStore, 'applyReceipts'>,
    private readonly metrics: Pick<AccountMetrics, 'pushReceived' | 'statusChanged'>,
    private readonly log: Logger,
    private readonly msgidSeconds: number,
    /** How long a handled receipt is remembered, so WeChat's re-sends of it change nothing (the push intake's window). */
    private readonly seenSeconds: number,
    private readonly recording: MoveRecording,
    private readonly now: () => number = Date.now,
  ) {}

  /** Applies the receipt; resolves with whether work became due (the fallback) once it is stored. */
  apply(push: ReceiptPush): Promise<boolean> {
    return this.batches.add(push);
  }

  /** One store call for the receipts of a turn; each one's promise settles with its own step. */
  private flush(pushes: ReceiptPush[]): Array<Promise<boolean>> {
    const at = this.now();
    const moves = pushes.map((push) => receiptMove(push.msgid, push.status, at));
    const applied = this.store.applyReceipts(pushes.map((push, i) => this.receiptOf(push, moves[i], at)));
    return applied.map((one, i) => one.then((result) => this.settled(pushes[i], moves[i], result)));
  }

  private receiptOf(push: ReceiptPush, { name, change }: ReturnType<typeof receiptMove>, at: number): MsgidReceipt {
    const rule = MOVES[name];
    const iso = new Date(at).toISOString();
    // the template is read from the record in the same step (the receipt names only the msgid)
    const move = recordMove(name, {}, change, { from: rule.from, to: rule.to as Status, at }, this.recording);
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
