import type { Logger } from '../log/logger';
import type { AccountState } from './account-state';
import { StoreUnavailableError } from '../store/unavailable';
import type { StoredRecord } from '../store/store';
import type { CustomerServiceLeg } from './customer-service-leg';
import { KeyedSerializer } from './keyed-serializer';
import { TERMINAL, type Lifecycle } from './lifecycle';
import type { Notification } from './notification';
import type { Notifications } from './notifications';
import type { Parking } from './parking';
import { backoffMs } from './send-policy';
import type { TemplateLeg } from './template-leg';

/** A step that fails this many times for an internal reason ends the notice `failed` (`internal_error`). */
export const MAX_STEP_ERRORS = 5;

/**
 * Takes the next step of each notice the work loop claims, by its status: the template leg for a
 * queued one or an expired receipt deadline, the customer-service leg for a pending text, parking
 * for an expired park. Every change is a move of the lifecycle, so a second instance or a
 * duplicate event that got there first makes the move fail here and nothing is sent twice.
 */
export class Dispatcher {
  private readonly perUser = new KeyedSerializer();

  constructor(
    private readonly lifecycle: Lifecycle,
    private readonly notifications: Notifications,
    private readonly templateLeg: TemplateLeg,
    private readonly customerService: CustomerServiceLeg,
    private readonly parking: Parking,
    private readonly retryBaseDelayMs: number,
    /** Whether the notice's account may still send (a merchant may revoke the platform's authorisation). */
    private readonly accountState: () => Promise<AccountState>,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The notices of one user are handled one after the other in this process, so parked notices
   * reach the user in order; a notice that had to wait for another is read again (it may have
   * moved meanwhile). `record`: the notice's record as its claim read it, if it did.
   */
  async handle(id: string, record?: StoredRecord): Promise<void> {
    const n = record ? this.notifications.fromRecord(id, record) : await this.notifications.get(id);
    if (!n) return; // expired with its retention
    await this.perUser.run(n.openid, async (waited) => {
      const current = waited ? await this.notifications.get(id) : n;
      if (current) await this.step(current);
    });
  }

  private async step(n: Notification): Promise<void> {
    if (!TERMINAL.has(n.status)) {
      const state = await this.accountState();
      if (state !== 'active') return this.accountGone(n, state);
    }
    switch (n.status) {
      case 'queued':
        return this.templateLeg.send(n);
      case 'awaiting_receipt':
        if (this.isAhead(n.receiptDueAt)) return this.rescheduleAt(n, n.receiptDueAt as number);
        return this.templateLeg.receiptDeadline(n);
      case 'fallback_pending':
        return this.customerService.send(n);
      case 'awaiting_interaction':
        if (this.isAhead(n.parkedUntil)) return this.rescheduleAt(n, n.parkedUntil as number);
        return this.parking.expire(n);
      default:
        await this.lifecycle.move('unschedule', n, { detail: null, dueAt: null });
    }
  }

  /** The account can no longer send: the notice ends here, whatever it was waiting for. */
  private async accountGone(n: Notification, state: Exclude<AccountState, 'active'>): Promise<void> {
    const waiting = n.status === 'awaiting_receipt' && n.msgid ? ` while awaiting the receipt of msgid ${n.msgid}` : '';
    const detail =
      state === 'unauthorized'
        ? `the account ${n.account} revoked its authorisation${waiting}: nothing more is sent`
        : `the account ${n.account} is no longer configured${waiting}: nothing more is sent`;
    const reason = state === 'unauthorized' ? 'account_unauthorized' : 'account_unknown';
    await this.lifecycle.move('fail', n, { detail, set: { reason, csCallAt: '' }, dueAt: null }, { from: [n.status] });
  }

  /**
   * A claim can reach a notice whose deadline is still ahead (a lease that ran out under a stalled
   * worker re-scored it): it goes back on the schedule at its deadline instead of acting early.
   */
  private isAhead(deadline: number | undefined): boolean {
    return deadline !== undefined && deadline > this.now();
  }

  private async rescheduleAt(n: Notification, deadline: number): Promise<void> {
    await this.lifecycle.move('retryLater', n, { detail: null, dueAt: deadline });
  }

  /**
   * A step threw for an internal reason (a bug, stored data a script cannot take): count it, try
   * again after a pause, and after MAX_STEP_ERRORS end the notice `failed` (`internal_error`) with
   * the error in its history, so that no notice loops forever. An unreachable store is not the
   * notice's fault: its lease makes it due again and nothing is counted.
   */
  async stepFailed(id: string, err: unknown): Promise<void> {
    if (err instanceof StoreUnavailableError) return;
    const n = await this.notifications.get(id);
    if (!n || TERMINAL.has(n.status)) return;
    const errors = (n.stepErrors ?? 0) + 1;
    const message = (err as Error)?.message ?? String(err);
    if (errors >= MAX_STEP_ERRORS) {
      this.log.error('notification failed: its step keeps failing', { id, status: n.status, errors, err });
      await this.lifecycle.move('fail', n, {
        detail: `internal error, gave up after ${errors} tries: ${message}`,
        set: { reason: 'internal_error', stepErrors: String(errors), csCallAt: '' },
        dueAt: null,
      }, { from: [n.status] });
      return;
    }
    const delay = backoffMs(errors, this.retryBaseDelayMs);
    await this.lifecycle.move('retryLater', n, {
      detail: `internal error (${errors} of ${MAX_STEP_ERRORS}): ${message}; trying again in ${delay} ms`,
      set: { stepErrors: String(errors) },
      dueAt: this.now() + delay,
    });
  }
}
