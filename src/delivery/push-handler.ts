import type { Logger } from '../log/logger';
import type { Metrics } from '../metrics/metrics';
import type { Store } from '../store/store';
import type { WindowKind } from '../wechat/customer-service-window';
import type { Push } from '../wechat/push';
import type { Notifications } from './notifications';
import type { ServiceWindow } from './window';

export interface PushOutcome {
  /** Text for the passive reply to this push, when a parked notice rides on it. */
  reply?: string;
  /** The business's own server's passive reply (XML) to a forwarded push; it wins over `reply`. */
  downstreamReply?: string;
  /** Work became due now (the loop should look). */
  workDue: boolean;
}

/** Pushes are re-sent by WeChat for up to ~20 s; receipts may repeat much later. */
const DEDUPE_SECONDS = 24 * 3600;
/** A re-sent push gets the same passive reply (our first answer may not have reached WeChat in time). */
const REPLY_MEMORY_MS = 60_000;
/**
 * A passive reply is only promised while WeChat is surely still waiting (it gives up at 5 s and
 * re-sends); later, every parked notice goes through customer service instead.
 */
const REPLY_DEADLINE_MS = 3500;
/** Delay of the customer-service sends that follow a passive reply (the reply must reach the user first). */
const AFTER_REPLY_MS = 500;
/** Parked notices looked at per interaction: one rides on the reply, the rest go out via customer service. */
const PARKED_PER_INTERACTION = 50;

const replyKey = (push: Push) => `reply:${push.dedupeKey}`;
/** The business bot's reply (XML) to a forwarded push, kept as long for the same re-sends. */
const botReplyKey = (push: Push) => `bot-reply:${push.dedupeKey}`;

const WINDOW_OF: Partial<Record<Push['kind'], WindowKind>> = {
  message: 'message',
  subscribe: 'event',
  scan: 'event',
  menu_click: 'event',
};

/**
 * What a push from WeChat means for delivery. Does the minimum inside the request (dedupe,
 * record, schedule); any sending happens in the work loop, except the passive reply itself.
 */
export class PushHandler {
  constructor(
    private readonly store: Store,
    private readonly notifications: Notifications,
    private readonly window: ServiceWindow,
    private readonly msgidTtlSeconds: number,
    private readonly metrics: Pick<Metrics, 'pushReceived'>,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * `forward` passes the push on to the business's own server and yields its passive reply. When
   * it has one, that is the answer (also to WeChat's re-sends of this push) and every parked notice
   * goes out through customer service (the interaction just opened the window); otherwise the
   * oldest parked notice is the answer. `evenIfSeen` acts on a push already marked seen: one kept
   * in the push journal may have been marked just before the store went away.
   */
  async handle(push: Push, forward?: () => Promise<string | undefined>, receivedAt: number = this.now(), evenIfSeen = false): Promise<PushOutcome> {
    const seenKey = `push:${push.dedupeKey}`;
    const first = await this.store.firstSeen(seenKey, DEDUPE_SECONDS);
    this.metrics.pushReceived(push.kind, !first);
    if (!first && !evenIfSeen) {
      const [reply, downstreamReply] = await Promise.all([this.storedReply(push), this.store.getValue(botReplyKey(push))]);
      return { workDue: false, reply, downstreamReply: downstreamReply ?? undefined };
    }
    try {
      const downstreamReply = forward && push.kind !== 'receipt' ? await forward() : undefined;
      const replyTaken = downstreamReply !== undefined || this.now() - receivedAt > REPLY_DEADLINE_MS;
      const outcome = { downstreamReply, ...(await this.act(push, replyTaken)) };
      if (downstreamReply !== undefined) {
        // Needed only if this answer gets lost: failing to keep it must not fail a handled push.
        await this.store.setValue(botReplyKey(push), downstreamReply, REPLY_MEMORY_MS).catch((err: unknown) => this.log.warn('bot reply not kept for re-sends', { err }));
      }
      return outcome;
    } catch (err) {
      // A notice already marked as this push's reply must still be answered; otherwise let
      // WeChat's re-send of this push try again from the start.
      const reply = await this.storedReply(push).catch(() => undefined);
      if (reply !== undefined) {
        this.log.warn('push partly handled; answering with the reply already recorded', { err });
        return { workDue: true, reply };
      }
      await this.store.forget(seenKey).catch(() => undefined);
      throw err;
    }
  }

  private async storedReply(push: Push): Promise<string | undefined> {
    return (await this.store.getValue(replyKey(push))) ?? undefined;
  }

  private async act(push: Push, replyTaken: boolean): Promise<{ reply?: string; workDue: boolean }> {
    switch (push.kind) {
      case 'receipt': {
        const id = await this.store.resolveMsgid(push.msgid, push.status, this.msgidTtlSeconds);
        if (id === null) {
          this.log.info('receipt before its send was recorded; kept for it', { msgid: push.msgid, status: push.status });
          return { workDue: false };
        }
        await this.notifications.applyReceipt(id, push.msgid, push.status, push.openid);
        return { workDue: push.outcome !== 'success' };
      }
      case 'unsubscribe':
        await this.window.close(push.openid);
        return { workDue: false };
      case 'other':
        return { workDue: false };
      default: {
        await this.window.open(push.openid, WINDOW_OF[push.kind] as WindowKind);
        const { reply, released } = await this.releaseParked(push, replyTaken);
        return { reply, workDue: released > 0 };
      }
    }
  }

  /**
   * The oldest parked notice becomes the passive reply; the others are due for customer service
   * now, in order. Marking the reply and recording its text for this push is one atomic step, so
   * a re-sent push (our answer lost, or this instance died) is answered with the same text.
   */
  private async releaseParked(push: Push, replyTaken: boolean): Promise<{ reply?: string; released: number }> {
    const { openid } = push;
    const ids = await this.notifications.parkedFor(openid, PARKED_PER_INTERACTION);
    let reply: string | undefined;
    let order = 0;
    let released = 0;
    for (const id of ids) {
      const unpark = { removeFromSet: this.notifications.unparkedEntry({ id, openid }) };
      let moved: boolean;
      if (reply === undefined && !replyTaken) {
        // Only the reply needs the notice read (for its text); the status check is the move's own.
        const text = (await this.notifications.get(id))?.text ?? '';
        moved = await this.notifications.move({ id }, ['awaiting_interaction'], 'fallback_sent', "sent as the passive reply to the user's interaction", {
          ...unpark,
          set: { channel: 'passive_reply' },
          dueAt: null,
          setValue: { key: replyKey(push), value: text, ttlMs: REPLY_MEMORY_MS },
        });
        if (moved) reply = text;
      } else {
        // After a passive reply, wait a moment: a customer-service message must not overtake it.
        const after = reply === undefined ? 0 : AFTER_REPLY_MS;
        moved = await this.notifications.move({ id }, ['awaiting_interaction'], 'fallback_pending', 'the user interacted: sending through customer service', {
          ...unpark,
          dueAt: this.now() + after + order++,
        });
      }
      if (moved) released += 1;
      // Not waiting any more (sent, expired, gone): the entry is stale.
      else await this.notifications.unparkForUser(openid, id);
    }
    return { reply, released };
  }
}
