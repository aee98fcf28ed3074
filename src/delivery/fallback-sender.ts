import { renderFallback } from './fallback-text';
import { plainValues, type Notification } from './notification';
import type { Notifications } from './notifications';
import { backoffMs, decideCustomFailure } from './send-policy';
import type { TemplateRegistry } from './template-registry';
import { waitForWechat, type WechatWaitSettings } from './wechat-wait';
import type { ServiceWindow } from './window';

export interface FallbackSettings {
  retry: { maxAttempts: number; baseDelayMs: number };
  parkSeconds: number;
  /** How long a customer-service call may be in flight (token, lock waits, the call itself) before it counts as lost. */
  callMs: number;
  /** Waiting for WeChat (outage, token): the bound and the circuit breaker's view. */
  wait: WechatWaitSettings;
}

/**
 * The second content of the patent: the sentence built from the business fields, sent through
 * the customer-service interface at most once, or kept for the user's next interaction when the
 * window is closed.
 */
export class FallbackSender {
  constructor(
    private readonly notifications: Notifications,
    private readonly api: { sendText(openid: string, content: string): Promise<void> },
    private readonly templates: TemplateRegistry,
    private readonly window: ServiceWindow,
    private readonly settings: FallbackSettings,
    private readonly now: () => number = Date.now,
  ) {}

  private async fallbackText(n: Notification): Promise<string> {
    if (n.text) return n.text;
    const resolved = await this.templates.resolve(n.template);
    const state = resolved ? await this.templates.state(n.templateId ?? resolved.templateId) : undefined;
    return renderFallback(
      { explicitText: n.fallbackText, pattern: resolved?.config?.fallback, templateContent: state?.content, templateTitle: state?.title },
      plainValues(n.data),
      n.url,
    );
  }

  /** Sends the text through customer service, or parks it when the window is closed. */
  async send(n: Notification): Promise<void> {
    if (n.csCallAt !== undefined) {
      const lostAt = n.csCallAt + this.settings.callMs;
      // Still within its time: another worker's call is in flight; look again when it must be over.
      if (this.now() < lostAt) {
        await this.notifications.move(n, ['fallback_pending'], 'fallback_pending', null, { dueAt: lostAt, expect: { csCallAt: String(n.csCallAt) } });
        return;
      }
      // A customer-service call left and its answer was never recorded (the instance died): never repeat it.
      return this.fail(n, 'customer-service call outcome unknown after a crash', 'outcome_unknown', { csCallAt: String(n.csCallAt) });
    }
    const text = await this.fallbackText(n);
    const window = await this.window.take(n.openid);
    if (window.state === 'closed') return this.park(n, text, 'customer-service window closed (known), no call');

    // Only one worker may start the call: the marker is set only where none is (a stale second claim finds it set).
    const marked = await this.notifications.move(n, ['fallback_pending'], 'fallback_pending', null, {
      set: { csCallAt: String(this.now()), text, csAttempts: String(n.csAttempts + 1) },
      expect: { csCallAt: '' },
      dueAt: this.now() + this.settings.callMs,
    });
    if (!marked) {
      if (window.key) await this.window.giveBack(window.key);
      return;
    }
    try {
      await this.api.sendText(n.openid, text);
    } catch (err) {
      return this.fallbackFailed(n, text, err, window.key);
    }
    await this.notifications.move(n, ['fallback_pending'], 'fallback_sent', 'customer-service text accepted', {
      set: { channel: 'customer_service', csCallAt: '' },
      dueAt: null,
    });
    // Counted after the terminal move: a statistics failure must not turn a sent message into an unknown one.
    if (n.templateId) await this.templates.count(n.templateId, 'fallback_sent').catch(() => undefined);
  }

  private async fallbackFailed(n: Notification, text: string, err: unknown, windowKey: string | undefined): Promise<void> {
    const decision = decideCustomFailure(err);
    const message = (err as Error)?.message ?? String(err);
    if (decision.action !== 'unknown' && windowKey) await this.window.giveBack(windowKey);
    switch (decision.action) {
      case 'wait':
        return waitForWechat(this.notifications, n, 'fallback_pending', decision.reason, this.now(), this.settings.wait, { csCallAt: '' });
      case 'park':
        if (decision.windowClosed) await this.window.close(n.openid);
        return this.park(n, text, decision.reason, { csCallAt: '' });
      case 'retry': {
        const attempts = n.csAttempts + 1;
        if (attempts >= this.settings.retry.maxAttempts) {
          return this.fail(n, `customer-service send: ${message}; gave up after ${attempts} attempts`, 'customer_service_unavailable');
        }
        const delay = backoffMs(attempts, this.settings.retry.baseDelayMs);
        await this.notifications.move(n, ['fallback_pending'], 'fallback_pending', `${decision.reason}; retry in ${delay} ms`, {
          set: { csCallAt: '' },
          dueAt: this.now() + delay,
        });
        return;
      }
      case 'fail':
      case 'unknown':
        return this.fail(n, `customer-service send: ${message}`, decision.reason);
    }
  }

  /** The end of the road for a notice whose text is pending: `failed` with the reason. */
  private async fail(n: Notification, detail: string, reason: string, expect?: Record<string, string>): Promise<void> {
    await this.notifications.move(n, ['fallback_pending'], 'failed', detail, { set: { reason, csCallAt: '' }, dueAt: null, expect });
  }

  /** Keeps the notice until the user's next interaction (or until it expires). */
  private async park(n: Notification, text: string, detail: string, set: Record<string, string> = {}): Promise<void> {
    const parkedUntil = n.parkedUntil ?? this.now() + this.settings.parkSeconds * 1000;
    const parked = await this.notifications.move(n, ['fallback_pending'], 'awaiting_interaction', `${detail}; kept until the user interacts`, {
      set: { ...set, text, parkedUntil: String(parkedUntil) },
      dueAt: parkedUntil,
      addToSet: this.notifications.parkedEntry(n),
    });
    // The user may have come back while this was being decided (the push found nothing parked yet).
    if (parked && (await this.window.hasRoom(n.openid))) {
      await this.notifications.move(n, ['awaiting_interaction'], 'fallback_pending', 'the window opened meanwhile: sending through customer service', {
        dueAt: this.now(),
        removeFromSet: this.notifications.unparkedEntry(n),
      });
    }
  }

  async expireParked(n: Notification): Promise<void> {
    await this.notifications.move(n, ['awaiting_interaction'], 'failed', 'the user did not interact in time', {
      set: { reason: 'expired' },
      dueAt: null,
      removeFromSet: this.notifications.unparkedEntry(n),
    });
  }
}
