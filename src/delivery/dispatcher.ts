import type { Logger } from '../log/logger';
import type { TemplateMessage } from '../wechat/api-client';
import type { FallbackSender } from './fallback-sender';
import { KeyedSerializer } from './keyed-serializer';
import { fromFields, plainValues, toFields, type Notification } from './notification';
import type { Notifications } from './notifications';
import { backoffMs, decideTemplateFailure } from './send-policy';
import { StoreUnavailableError } from '../store/unavailable';
import { TERMINAL } from './status';
import { displayLosses } from './template-display';
import type { TemplateRegistry } from './template-registry';
import { waitForWechat, type WechatWaitSettings } from './wechat-wait';

export interface DispatchSettings {
  retry: { maxAttempts: number; baseDelayMs: number };
  receipt: { timeoutSeconds: number; onTimeout: 'fallback' | 'assume_delivered' };
  /** The work loop's lease: a notice being handled stays claimed this long. */
  leaseMs: number;
  /** How long a msgid → notification link lives. */
  msgidSeconds: number;
  /** Waiting for WeChat (outage, token): the bound and the circuit breaker's view. */
  wait: WechatWaitSettings;
}

/** A step that fails this many times in a row for an internal reason ends the notice `failed` (`internal_error`). */
export const MAX_STEP_ERRORS = 5;
/** While WeChat is unreachable, an expired receipt deadline is looked at again this much later. */
const RECEIPT_RECHECK_MS = 5000;

/**
 * Moves one due notification forward, according to its status. Called by the work loop for every
 * claimed id; every change is a compare-and-set, so a second instance or a duplicate event that
 * got there first simply makes the change fail here, and nothing is sent twice.
 */
export class Dispatcher {
  private readonly perUser = new KeyedSerializer();

  constructor(
    private readonly notifications: Notifications,
    private readonly api: { sendTemplate(message: TemplateMessage): Promise<string> },
    private readonly templates: TemplateRegistry,
    private readonly fallback: FallbackSender,
    private readonly settings: DispatchSettings,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Takes the next step of a claimed notice. The notices of one user are handled one after the
   * other in this process, so parked notices reach the user in order; a notice that had to wait
   * for another is read again (it may have moved meanwhile).
   */
  async handle(id: string): Promise<void> {
    const n = await this.notifications.get(id);
    if (!n) return; // expired with its retention
    await this.perUser.run(n.openid, async (waited) => {
      const current = waited ? await this.notifications.get(id) : n;
      if (current) await this.step(current);
    });
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
      await this.notifications.move(n, [n.status], 'failed', `internal error, gave up after ${errors} tries: ${message}`, {
        set: { reason: 'internal_error', stepErrors: String(errors), csCallAt: '' },
        dueAt: null,
        ...(n.status === 'awaiting_interaction' ? { removeFromSet: this.notifications.unparkedEntry(n) } : {}),
      });
      return;
    }
    const delay = backoffMs(errors, this.settings.retry.baseDelayMs);
    await this.notifications.move(n, [n.status], n.status, `internal error (${errors} of ${MAX_STEP_ERRORS}): ${message}; trying again in ${delay} ms`, {
      set: { stepErrors: String(errors) },
      dueAt: this.now() + delay,
    });
  }

  private async step(n: Notification): Promise<void> {
    switch (n.status) {
      case 'queued':
        return this.sendTemplate(n);
      case 'awaiting_receipt':
        if (this.isAhead(n.receiptDueAt)) return this.rescheduleAt(n, n.receiptDueAt as number);
        return this.receiptTimedOut(n);
      case 'fallback_pending':
        return this.fallback.send(n);
      case 'awaiting_interaction':
        if (this.isAhead(n.parkedUntil)) return this.rescheduleAt(n, n.parkedUntil as number);
        return this.fallback.expireParked(n);
      default:
        if (TERMINAL.has(n.status)) await this.notifications.move(n, [n.status], n.status, null, { dueAt: null });
    }
  }

  /**
   * A claim can reach a notice whose deadline is still ahead (a lease that ran out under a stalled
   * worker re-scored it): it goes back on the schedule at its deadline instead of acting early.
   */
  private isAhead(deadline: number | undefined): boolean {
    return deadline !== undefined && deadline > this.now();
  }

  private async rescheduleAt(n: Notification, deadline: number): Promise<void> {
    await this.notifications.move(n, [n.status], n.status, null, { dueAt: deadline });
  }

  private async sendTemplate(n: Notification): Promise<void> {
    const resolved = await this.templates.resolve(n.template);
    if (!resolved) return this.toFallback(n, 'queued', 'unknown template');
    const { templateId } = resolved;
    const state = await this.templates.state(templateId);
    if (!state.valid) {
      return this.toFallback(n, 'queued', `template ${templateId} is invalid (${state.reason ?? 'unusable'}): no template call`, { templateId });
    }
    const pausedUntil = await this.templates.quotaPausedUntil();
    if (pausedUntil) {
      return this.toFallback(n, 'queued', `daily template quota exhausted until ${new Date(pausedUntil).toISOString()}: no template call`, { templateId });
    }

    const message: TemplateMessage = { touser: n.openid, template_id: templateId, client_msg_id: n.id, data: n.data };
    if (n.url) message.url = n.url;
    if (n.miniprogram) message.miniprogram = n.miniprogram;
    let msgid: string;
    try {
      msgid = await this.api.sendTemplate(message);
    } catch (err) {
      return this.templateFailed(n, templateId, err);
    }
    // Linked before the status change, so a receipt finds its notice at any moment (it is applied
    // while still queued too); one that came before the send's answer is handed over here.
    const early = await this.notifications.linkMsgid(msgid, n.id, this.settings.msgidSeconds);
    const losses = displayLosses(state.content, plainValues(n.data));
    const detail = `template ${templateId} accepted, msgid ${msgid}${losses.length ? `; the user sees it cut: ${losses.join('; ')}` : ''}`;
    const receiptDueAt = this.now() + this.settings.receipt.timeoutSeconds * 1000;
    const moved = await this.notifications.move(n, ['queued'], 'awaiting_receipt', detail, {
      set: { msgid, templateId, channel: 'template', receiptDueAt: String(receiptDueAt) },
      dueAt: receiptDueAt,
    });
    if (early !== null) await this.notifications.applyReceipt(n.id, msgid, early);
    if (moved) await this.templates.count(templateId, 'sent').catch(() => undefined);
  }

  private async templateFailed(n: Notification, templateId: string, err: unknown): Promise<void> {
    const decision = decideTemplateFailure(err);
    const message = (err as Error)?.message ?? String(err);
    if (decision.action === 'wait') return waitForWechat(this.notifications, n, 'queued', decision.reason, this.now(), this.settings.wait);
    if (decision.action === 'retry') {
      const attempts = n.attempts + 1;
      if (attempts < this.settings.retry.maxAttempts) {
        const delay = backoffMs(attempts, this.settings.retry.baseDelayMs);
        // Same client_msg_id on the next try: WeChat sends at most one message for it within 10 minutes.
        await this.notifications.move(n, ['queued'], 'queued', `${decision.reason}; retry ${attempts} in ${delay} ms`, {
          set: { attempts: String(attempts) },
          dueAt: this.now() + delay,
        });
        return;
      }
      this.log.warn('template send gave up after retries', { id: n.id, attempts, error: message });
      return this.toFallback(n, 'queued', `${decision.reason}; gave up after ${attempts} attempts`, { attempts: String(attempts), templateId });
    }
    if (decision.action === 'fail') {
      await this.notifications.move(n, ['queued'], 'failed', `template send: ${message}`, { set: { reason: decision.reason }, dueAt: null });
      return;
    }
    if (decision.template === 'invalid') await this.templates.markInvalid(templateId, decision.reason);
    if (decision.template === 'quota_exhausted') await this.templates.pauseForQuota();
    return this.toFallback(n, 'queued', decision.reason, { templateId });
  }

  private async receiptTimedOut(n: Notification): Promise<void> {
    const after = `no receipt within ${this.settings.receipt.timeoutSeconds} s`;
    if (this.settings.wait.circuit().state !== 'closed') {
      // WeChat is down: its receipt may be late for the same reason. Not a verdict on the template.
      const detail = `${after}, but WeChat is unreachable: waiting for it before deciding`;
      const repeated = n.history.at(-1)?.detail === detail;
      await this.notifications.move(n, ['awaiting_receipt'], 'awaiting_receipt', repeated ? null : detail, { dueAt: this.now() + RECEIPT_RECHECK_MS });
      return;
    }
    if (this.settings.receipt.onTimeout === 'assume_delivered') {
      await this.notifications.move(n, ['awaiting_receipt'], 'delivered', `${after}: assumed delivered`, {
        set: { reason: 'no_receipt' },
        dueAt: null,
      });
      return;
    }
    return this.toFallback(n, 'awaiting_receipt', `${after}`, { reason: 'no_receipt' });
  }

  /** Marks the template path as failed and goes straight on to the customer-service text. */
  private async toFallback(n: Notification, from: 'queued' | 'awaiting_receipt', detail: string, set: Record<string, string> = {}): Promise<void> {
    // Stays claimed for a lease while this step sends the text; due again only if this instance dies.
    const moved = await this.notifications.move(n, [from], 'fallback_pending', `template path failed: ${detail}`, {
      set,
      dueAt: this.now() + this.settings.leaseMs,
    });
    if (moved) await this.fallback.send(fromFields(n.id, { ...toFields(n), ...set, status: 'fallback_pending' }, n.history));
  }
}
