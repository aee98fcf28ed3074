import type { Logger } from '../log/logger';
import type { AccountStore } from '../store/store';
import { TEMPLATE_SEND_PATH, type TemplateMessage } from '../wechat/api-client';
import type { CustomerServiceLeg } from './customer-service-leg';
import { unlessRepeated, type Lifecycle } from './lifecycle';
import { receiptMove, receiptNotes } from './receipt-commit';
import { plainValues, withFields, type Notification } from './notification';
import type { Notifications } from './notifications';
import { backoffMs, decideTemplateFailure } from './send-policy';
import { displayLosses } from './template-display';
import type { TemplateQuota } from './template-quota';
import type { TemplateRegistry } from './template-registry';
import { wechatCallOf, type WechatCall } from './wechat-call';
import { waitForWechat, type WechatWaitSettings } from './wechat-wait';

export interface TemplateLegSettings {
  retry: { maxAttempts: number; baseDelayMs: number };
  receipt: { timeoutSeconds: number; onTimeout: 'fallback' | 'assume_delivered' };
  /** The work loop's lease: a notice being handled stays claimed this long. */
  leaseMs: number;
  /** How long a msgid → notification link lives. */
  msgidSeconds: number;
  /** Waiting for WeChat (outage, token): the bound and the circuit breaker's view. */
  wait: WechatWaitSettings;
}

/** While WeChat is unreachable, an expired receipt deadline is looked at again this much later. */
const RECEIPT_RECHECK_MS = 5000;
/**
 * After the store was unreachable, receipts that came meanwhile are still arriving: WeChat's
 * re-sends of pushes it got no answer for, and the push journals being applied. No verdict on a
 * missing receipt this soon after.
 */
const AFTER_STORE_OUTAGE_MS = 15_000;

/**
 * The first content of the patent: the template message. Sends it (or skips it when the template
 * is known unusable or the daily quota is spent), links WeChat's msgid to the notice, applies the
 * TEMPLATESENDJOBFINISH receipt, and decides when no receipt comes. Any failure of this leg hands
 * the notice to the customer-service leg.
 */
export class TemplateLeg {
  constructor(
    private readonly lifecycle: Lifecycle,
    private readonly notifications: Notifications,
    private readonly correlation: Pick<AccountStore, 'linkMsgid'>,
    private readonly api: { sendTemplate(message: TemplateMessage): Promise<string> },
    private readonly templates: TemplateRegistry,
    private readonly quota: TemplateQuota,
    private readonly customerService: CustomerServiceLeg,
    private readonly settings: TemplateLegSettings,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** A queued notice: send the template message. */
  async send(n: Notification): Promise<void> {
    const resolved = await this.templates.resolve(n.template);
    if (!resolved) return this.failed(n, 'unknown template');
    const { templateId } = resolved;
    if (templateId === undefined) return this.failed(n, `template "${n.template}" is not in this account yet (not found by title, not added by short id): no template call`);
    const state = await this.templates.state(templateId);
    if (!state.valid) {
      return this.failed(n, `template ${templateId} is invalid (${state.reason ?? 'unusable'}): no template call`, { templateId });
    }
    const pausedUntil = await this.quota.pausedUntil();
    if (pausedUntil) {
      return this.failed(n, `daily template quota exhausted until ${new Date(pausedUntil).toISOString()}: no template call`, { templateId });
    }

    const message: TemplateMessage = { touser: n.openid, template_id: templateId, client_msg_id: n.id, data: n.data };
    if (n.url) message.url = n.url;
    if (n.miniprogram) message.miniprogram = n.miniprogram;
    let msgid: string;
    const started = performance.now();
    try {
      msgid = await this.api.sendTemplate(message);
    } catch (err) {
      return this.sendFailed(n, templateId, err, wechatCallOf(TEMPLATE_SEND_PATH, started, err));
    }
    const call = wechatCallOf(TEMPLATE_SEND_PATH, started);
    const losses = displayLosses(state.content, plainValues(n.data));
    const detail = `template ${templateId} accepted, msgid ${msgid}${losses.length ? `; the user sees it cut: ${losses.join('; ')}` : ''}`;
    const receiptDueAt = this.now() + this.settings.receipt.timeoutSeconds * 1000;
    // The msgid is linked in the same step as the status change (so a receipt finds its notice at
    // any moment); a receipt that came before the send's answer is handed over here.
    let early: string | null = null;
    await this.lifecycle.move(
      'sent',
      n,
      { detail, set: { msgid, templateId, channel: 'template', receiptDueAt: String(receiptDueAt) }, dueAt: receiptDueAt, call },
      { link: { msgid, ttlSeconds: this.settings.msgidSeconds, linked: (status) => (early = status) } },
    );
    if (early !== null) await this.applyReceipt(n.id, msgid, early);
  }

  /**
   * A receipt that beat the send's answer (stashed with its status only): delivered, or on to the
   * fallback. Applies while still `queued` too (a link is made even when the send's move is not).
   */
  private async applyReceipt(id: string, msgid: string, status: string): Promise<void> {
    const n = await this.notifications.get(id);
    if (!n) return;
    const { name, change } = receiptMove(msgid, status, this.now());
    if (!(await this.lifecycle.move(name, n, change))) await this.lifecycle.note(n, receiptNotes(msgid, status).late);
  }

  /** An `awaiting_receipt` notice whose deadline passed: `receipt.onTimeout` decides. */
  async receiptDeadline(n: Notification): Promise<void> {
    // A receipt that beat the send's answer is stashed for the send to apply; if the instance
    // that sent died before applying it, it is still there.
    const early = n.msgid === undefined ? null : await this.correlation.linkMsgid(n.msgid, n.id, this.settings.msgidSeconds);
    if (early !== null) return this.applyReceipt(n.id, n.msgid as string, early);
    const after = `no receipt within ${this.settings.receipt.timeoutSeconds} s`;
    const storeAwayAt = this.settings.wait.storeUnreachableAt();
    const reason =
      this.settings.wait.circuit().state !== 'closed'
        ? 'WeChat is unreachable: waiting for it before deciding'
        : storeAwayAt !== null && this.now() - storeAwayAt < AFTER_STORE_OUTAGE_MS
          ? 'the store was unreachable moments ago: receipts that came meanwhile are still arriving'
          : null;
    if (reason) {
      // The receipt may be late for the same reason: not a verdict on the template.
      const recheckAt = Math.max(this.now() + RECEIPT_RECHECK_MS, (storeAwayAt ?? 0) + AFTER_STORE_OUTAGE_MS);
      await this.lifecycle.move('retryLater', n, { detail: unlessRepeated(n, `${after}, but ${reason}`), dueAt: recheckAt });
      return;
    }
    if (this.settings.receipt.onTimeout === 'assume_delivered') {
      await this.lifecycle.move('delivered', n, { detail: `${after}: assumed delivered`, set: { reason: 'no_receipt' }, dueAt: null, receipt: 'none' }, { from: ['awaiting_receipt'] });
      return;
    }
    return this.failed(n, after, { reason: 'no_receipt' }, undefined, 'none');
  }

  private async sendFailed(n: Notification, templateId: string, err: unknown, call: WechatCall | undefined): Promise<void> {
    const decision = decideTemplateFailure(err);
    const message = (err as Error)?.message ?? String(err);
    if (decision.action === 'wait') return waitForWechat(this.lifecycle, n, 'queued', decision.reason, this.now(), this.settings.wait, {}, call);
    if (decision.action === 'retry') {
      const attempts = n.attempts + 1;
      if (attempts < this.settings.retry.maxAttempts) {
        const delay = backoffMs(attempts, this.settings.retry.baseDelayMs);
        // Same client_msg_id on the next try: WeChat sends at most one message for it within 10 minutes.
        await this.lifecycle.move('retryLater', n, {
          detail: `${decision.reason}; retry ${attempts} in ${delay} ms`,
          set: { attempts: String(attempts) },
          dueAt: this.now() + delay,
          call,
        });
        return;
      }
      this.log.warn('template send gave up after retries', { id: n.id, attempts, error: message });
      return this.failed(n, `${decision.reason}; gave up after ${attempts} attempts`, { attempts: String(attempts), templateId }, call);
    }
    if (decision.action === 'fail') {
      await this.lifecycle.move('fail', n, { detail: `template send: ${message}`, set: { reason: decision.reason }, dueAt: null, call });
      return;
    }
    if (decision.template === 'invalid') await this.templates.markInvalid(templateId, decision.reason);
    if (decision.template === 'quota_exhausted') await this.quota.pause();
    return this.failed(n, decision.reason, { templateId }, call);
  }

  /** The template path failed (after `call`, when one was made; `receipt`: no receipt came): straight on to the customer-service text, in this same step. */
  private async failed(n: Notification, detail: string, set: Record<string, string> = {}, call?: WechatCall, receipt?: 'none'): Promise<void> {
    // Stays claimed for a lease while this step sends the text; due again only if this instance dies.
    const change = { detail: `template path failed: ${detail}`, set, dueAt: this.now() + this.settings.leaseMs, call, receipt };
    const moved = await this.lifecycle.move('templateFailed', n, change, { from: [n.status] });
    if (moved) await this.customerService.send(withFields(n, { ...set, status: 'fallback_pending' }));
  }
}
