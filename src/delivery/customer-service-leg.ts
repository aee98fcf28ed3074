import { CUSTOM_SEND_PATH } from '../wechat/api-client';
import type { WindowKind } from '../wechat/customer-service-window';
import type { CustomerServiceWindow } from './customer-service-window';
import { renderFallback } from './fallback-text';
import type { Lifecycle } from './lifecycle';
import { plainValues, type Notification } from './notification';
import type { Parking } from './parking';
import { backoffMs, decideCustomFailure } from './send-policy';
import type { TemplateRegistry } from './template-registry';
import { wechatCallOf, type WechatCall } from './wechat-call';
import { waitForWechat, type WechatWaitSettings } from './wechat-wait';

export interface CustomerServiceLegSettings {
  retry: { maxAttempts: number; baseDelayMs: number };
  /** How long a customer-service call may be in flight (token, lock waits, the call itself) before it counts as lost. */
  callMs: number;
  /** Waiting for WeChat (outage, token): the bound and the circuit breaker's view. */
  wait: WechatWaitSettings;
}

/**
 * The second content of the patent: the sentence built from the business fields, sent through the
 * customer-service interface at most once (a call has no idempotency key at WeChat), or parked
 * when the user's customer-service window is closed.
 */
export class CustomerServiceLeg {
  constructor(
    private readonly lifecycle: Lifecycle,
    private readonly api: { sendText(openid: string, content: string): Promise<void> },
    private readonly templates: TemplateRegistry,
    private readonly window: CustomerServiceWindow,
    private readonly parking: Parking,
    private readonly settings: CustomerServiceLegSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** The sentence, fixed once built so every channel sends the same words. */
  private async fallbackText(n: Notification): Promise<string> {
    if (n.text) return n.text;
    const resolved = await this.templates.resolve(n.template);
    const templateId = n.templateId ?? resolved?.templateId;
    const state = templateId === undefined ? undefined : await this.templates.state(templateId);
    return renderFallback(
      { explicitText: n.fallbackText, pattern: resolved?.config?.fallback, templateContent: state?.content, templateTitle: state?.title },
      plainValues(n.data),
      n.url,
    );
  }

  /** A `fallback_pending` notice: send the text, or park it when the window is known closed. */
  async send(n: Notification): Promise<void> {
    if (n.csCallAt !== undefined) {
      const lostAt = n.csCallAt + this.settings.callMs;
      // Still within its time: another worker's call is in flight; look again when it must be over.
      if (this.now() < lostAt) {
        await this.lifecycle.move('retryLater', n, { detail: null, dueAt: lostAt, expect: { csCallAt: String(n.csCallAt) } });
        return;
      }
      // A customer-service call left and its answer was never recorded (the instance died): never repeat it.
      return this.fail(n, 'customer-service call outcome unknown after a crash', 'outcome_unknown', { csCallAt: String(n.csCallAt) });
    }
    const text = await this.fallbackText(n);
    const window = await this.window.take(n.openid);
    if (window.state === 'closed') return this.parking.park(n, text, 'customer-service window closed (known), no call');

    // Only one worker may start the call: the marker is set only where none is (a stale second claim finds it set).
    const marked = await this.lifecycle.move('callStarted', n, {
      detail: null,
      set: { csCallAt: String(this.now()), text, csAttempts: String(n.csAttempts + 1) },
      expect: { csCallAt: '' },
      dueAt: this.now() + this.settings.callMs,
    });
    if (!marked) {
      if (window.kind) await this.window.giveBack(n.openid, window.kind);
      return;
    }
    const started = performance.now();
    try {
      await this.api.sendText(n.openid, text);
    } catch (err) {
      return this.sendFailed(n, text, err, window.kind, wechatCallOf(CUSTOM_SEND_PATH, started, err));
    }
    const call = wechatCallOf(CUSTOM_SEND_PATH, started);
    await this.lifecycle.move('fallbackSent', n, { detail: 'customer-service text accepted', set: { channel: 'customer_service', csCallAt: '' }, dueAt: null, call });
  }

  private async sendFailed(n: Notification, text: string, err: unknown, windowKind: WindowKind | undefined, call: WechatCall | undefined): Promise<void> {
    const decision = decideCustomFailure(err);
    const message = (err as Error)?.message ?? String(err);
    if (decision.action !== 'unknown' && windowKind) await this.window.giveBack(n.openid, windowKind);
    switch (decision.action) {
      case 'wait':
        return waitForWechat(this.lifecycle, n, 'fallback_pending', decision.reason, this.now(), this.settings.wait, { csCallAt: '' }, call);
      case 'park':
        if (decision.windowClosed) await this.window.close(n.openid);
        return this.parking.park(n, text, decision.reason, { csCallAt: '' }, call);
      case 'retry': {
        const attempts = n.csAttempts + 1;
        if (attempts >= this.settings.retry.maxAttempts) {
          return this.fail(n, `customer-service send: ${message}; gave up after ${attempts} attempts`, 'customer_service_unavailable', undefined, call);
        }
        const delay = backoffMs(attempts, this.settings.retry.baseDelayMs);
        await this.lifecycle.move('retryLater', n, { detail: `${decision.reason}; retry in ${delay} ms`, set: { csCallAt: '' }, dueAt: this.now() + delay, call });
        return;
      }
      case 'fail':
      case 'unknown':
        return this.fail(n, `customer-service send: ${message}`, decision.reason, undefined, call);
    }
  }

  /** The end of the road for a notice whose text is pending: `failed` with the reason (and the call that ended it). */
  private async fail(n: Notification, detail: string, reason: string, expect?: Record<string, string>, call?: WechatCall): Promise<void> {
    await this.lifecycle.move('fail', n, { detail, set: { reason, csCallAt: '' }, dueAt: null, expect, call }, { from: ['fallback_pending'] });
  }
}
