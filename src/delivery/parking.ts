import type { CustomerServiceWindow } from './customer-service-window';
import type { Lifecycle } from './lifecycle';
import type { Notification } from './notification';
import type { Notifications } from './notifications';
import type { WechatCall } from './wechat-call';

/** Parked notices looked at per interaction: one rides on the reply, the rest go out via customer service. */
const PARKED_PER_INTERACTION = 50;
/** Delay of the customer-service sends that follow a passive reply (the reply must reach the user first). */
const AFTER_REPLY_MS = 500;
/** A re-sent push gets the same passive reply (our first answer may not have reached WeChat in time). */
export const REPLY_MEMORY_MS = 60_000;

/**
 * Notices whose text waits for the user: parked when the customer-service window is closed,
 * released on the user's next interaction (the oldest as the passive reply to it, the rest through
 * customer service, in order), failed `expired` after `parkSeconds`.
 */
export class Parking {
  constructor(
    private readonly lifecycle: Lifecycle,
    private readonly notifications: Notifications,
    private readonly window: CustomerServiceWindow,
    private readonly parkSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Keeps the notice until the user's next interaction (or until it expires); `call` is the refused send, if any. */
  async park(n: Notification, text: string, detail: string, set: Record<string, string> = {}, call?: WechatCall): Promise<void> {
    const parkedUntil = n.parkedUntil ?? this.now() + this.parkSeconds * 1000;
    const parked = await this.lifecycle.move('park', n, {
      detail: `${detail}; kept until the user interacts`,
      set: { ...set, text, parkedUntil: String(parkedUntil) },
      dueAt: parkedUntil,
      call,
    });
    // The user may have come back while this was being decided (the push found nothing parked yet).
    if (parked && (await this.window.hasRoom(n.openid))) {
      await this.lifecycle.move('release', n, { detail: 'the window opened meanwhile: sending through customer service', dueAt: this.now() });
    }
  }

  /**
   * The user interacted (`pushKey` names the push). The oldest parked notice becomes the passive
   * reply unless `replyTaken` (the business's bot answered, or it is too late to answer); the others
   * are due for customer service now, in order. Marking the reply and recording its text for the
   * push is one atomic step, so a re-sent push is answered with the same text.
   *
   * Once a notice is the reply, that reply must reach the user whatever happens next: a failure
   * while releasing the others is returned as `unfinished` (with the reply), not thrown.
   */
  async release(openid: string, pushKey: string, replyTaken: boolean): Promise<{ reply?: string; released: number; unfinished?: unknown }> {
    const ids = await this.lifecycle.parkedFor(openid, PARKED_PER_INTERACTION);
    let reply: string | undefined;
    let released = 0;
    try {
      released = await this.releaseEach(openid, ids, pushKey, replyTaken, (text) => (reply = text));
    } catch (err) {
      if (reply === undefined) throw err;
      return { reply, released, unfinished: err };
    }
    return { reply, released };
  }

  /** Releases `ids` in order; `onReply` receives the text of the one that became the passive reply. */
  private async releaseEach(openid: string, ids: string[], pushKey: string, replyTaken: boolean, onReply: (text: string) => void): Promise<number> {
    let reply: string | undefined;
    let order = 0;
    let released = 0;
    for (const id of ids) {
      const n = { id, openid };
      let moved: boolean;
      if (reply === undefined && !replyTaken) {
        // Only the reply needs the notice read (for its text); the status check is the move's own.
        const text = (await this.notifications.get(id))?.text ?? '';
        moved = await this.lifecycle.move(
          'releaseAsReply',
          n,
          { detail: "sent as the passive reply to the user's interaction", set: { channel: 'passive_reply' }, dueAt: null },
          { reply: { key: pushKey, text, ttlMs: REPLY_MEMORY_MS } },
        );
        if (moved) onReply((reply = text));
      } else {
        // After a passive reply, wait a moment: a customer-service message must not overtake it.
        const after = reply === undefined ? 0 : AFTER_REPLY_MS;
        moved = await this.lifecycle.move('release', n, { detail: 'the user interacted: sending through customer service', dueAt: this.now() + after + order++ });
      }
      if (moved) released += 1;
      // Not waiting any more (sent, expired, gone): the entry is stale.
      else await this.lifecycle.forgetParked(openid, id);
    }
    return released;
  }

  /** An `awaiting_interaction` notice whose deadline passed. */
  async expire(n: Notification): Promise<void> {
    await this.lifecycle.move('expire', n, { detail: 'the user did not interact in time', set: { reason: 'expired' }, dueAt: null });
  }
}
