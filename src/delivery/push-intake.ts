import type { Logger } from '../log/logger';
import { StoreUnavailableError } from '../store/unavailable';
import type { AccountMetrics } from '../metrics/metrics';
import type { PushMemory } from '../store/store';
import { WINDOW_OPENED_BY, type WindowKind } from '../wechat/customer-service-window';
import type { Push } from '../wechat/push';
import type { CustomerServiceWindow } from './customer-service-window';
import { REPLY_MEMORY_MS, type Parking } from './parking';
import type { ReceiptCommit } from './receipt-commit';

export interface PushOutcome {
  /** Text for the passive reply to this push, when a parked notice rides on it. */
  reply?: string;
  /** The business's own server's passive reply (XML) to a forwarded push; it wins over `reply`. */
  downstreamReply?: string;
  /** Work became due now (the loop should look). */
  workDue: boolean;
  /**
   * The push was only partly acted on (the store went away after its passive reply was chosen):
   * answer with the reply, and apply the push again later (from the push journal) for the rest.
   */
  unfinished?: boolean;
}

/** Pushes are re-sent by WeChat for up to ~20 s; receipts may repeat much later. */
export const DEDUPE_SECONDS = 24 * 3600;
/** A push being handled is claimed this long; a re-send waits for the claim to end (WeChat waits 5 s). */
const CLAIM_SECONDS = 3;
const CLAIM_POLL_MS = 100;
const RENEW_MS = 1000;
/**
 * A passive reply is only promised while WeChat is surely still waiting (it gives up at 5 s and
 * re-sends); later, every parked notice goes through customer service instead.
 */
const REPLY_DEADLINE_MS = 3500;

/** The push is still being handled elsewhere: WeChat should send it again a little later. */
export class PushBusyError extends Error {
  constructor() {
    super('this push is still being handled; send it again');
    this.name = 'PushBusyError';
  }
}

/**
 * What a push from WeChat means for delivery, kept small: dedupe, then a receipt goes to the
 * template leg, an interaction opens the customer-service window and releases parked notices, an
 * unfollow closes the window. Any sending happens in the work loop, except the passive reply itself.
 */
export class PushIntake {
  constructor(
    private readonly store: PushMemory,
    private readonly receipts: Pick<ReceiptCommit, 'apply'>,
    private readonly parking: Parking,
    private readonly window: CustomerServiceWindow,
    private readonly metrics: Pick<AccountMetrics, 'pushReceived'>,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * `forward` passes the push on to the business's own server and yields its passive reply. When
   * it has one, that is the answer (also to WeChat's re-sends of this push) and every parked notice
   * goes out through customer service (the interaction just opened the window); otherwise the
   * oldest parked notice is the answer. `fromJournal`: a push kept in the push journal while the
   * store was away, applied now; WeChat was answered long ago (so no passive reply), and it is
   * acted on even if marked seen (it may have been marked just before the store went away).
   */
  async handle(push: Push, forward?: () => Promise<string | undefined>, receivedAt: number = this.now(), fromJournal = false): Promise<PushOutcome> {
    // A receipt is one atomic step in the store (its dedupe included): no claim to take, nothing to reply.
    if (push.kind === 'receipt') return { workDue: await this.receipts.apply(push) };
    // Claimed for a moment only, and marked handled once handled: an instance that dies half-way
    // leaves the push to WeChat's re-send instead of losing it as a duplicate.
    const first = fromJournal || (await this.claim(push));
    this.metrics.pushReceived(push.kind, !first);
    if (!first) return { workDue: false, ...(await this.recordedReplies(push)) };
    // Held while this handler lives, however slow it is; an instance that dies lets it lapse.
    const renewal = setInterval(() => void this.store.renewPushClaim(push.openid, push.dedupeKey, CLAIM_SECONDS).catch(() => undefined), RENEW_MS);
    try {
      // An earlier try of this push that died after choosing its answer: that answer stands. (A push
      // from the journal has no answer to give: it is acted on in full.)
      const recorded = fromJournal ? {} : await this.recordedReplies(push, forward !== undefined);
      if (recorded.reply !== undefined || recorded.downstreamReply !== undefined) return { workDue: true, ...recorded };
      const downstreamReply = forward ? await forward() : undefined;
      const replyTaken = fromJournal || downstreamReply !== undefined || this.now() - receivedAt > REPLY_DEADLINE_MS;
      const outcome = { downstreamReply, ...(await this.act(push, replyTaken)) };
      if (downstreamReply !== undefined) {
        // Needed only if this answer gets lost: failing to keep it must not fail a handled push.
        // The business bot's reply is kept as long as ours, for the same re-sends.
        await this.store.rememberBotReply(push.openid, push.dedupeKey, downstreamReply, REPLY_MEMORY_MS).catch((err: unknown) => this.log.warn('bot reply not kept for re-sends', { err }));
      }
      await this.store.keepPushSeen(push.openid, push.dedupeKey, DEDUPE_SECONDS).catch((err: unknown) => this.log.warn('push not kept as seen', { err }));
      return outcome;
    } catch (err) {
      // A notice already marked as this push's reply must still be answered; otherwise let
      // WeChat's re-send of this push try again from the start.
      const reply = await this.storedReply(push).catch(() => undefined);
      if (reply !== undefined) {
        this.log.warn('push partly handled; answering with the reply already recorded', { err });
        return { workDue: true, reply };
      }
      await this.store.forgetPush(push.openid, push.dedupeKey).catch(() => undefined);
      throw err;
    } finally {
      clearInterval(renewal);
    }
  }

  /**
   * True when this request is to handle the push. A re-send that finds it claimed (still being
   * handled, or by an instance that died) waits for the claim to end, within WeChat's 5 s: handled
   * meanwhile, or its answer already chosen, it is a duplicate; lapsed (its handler died), this
   * request takes it over. A live handler renews its claim, so a slow one is never taken over.
   */
  private async claim(push: Push): Promise<boolean> {
    for (let polls = (CLAIM_SECONDS * 1000) / CLAIM_POLL_MS + 1; ; polls -= 1) {
      if (await this.store.firstSeenPush(push.openid, push.dedupeKey, CLAIM_SECONDS)) return true;
      if ((await this.store.pushState(push.openid, push.dedupeKey)) !== 'claimed') return false;
      const recorded = await this.recordedReplies(push);
      if (recorded.reply !== undefined || recorded.downstreamReply !== undefined) return false;
      // Still being handled: answering `success` now would lose the reply it may yet choose.
      if (polls === 0) throw new PushBusyError();
      await new Promise((resolve) => setTimeout(resolve, CLAIM_POLL_MS));
    }
  }

  /** The passive replies already given to this push: ours (a parked notice) and, when `withBot`, the business bot's. */
  private async recordedReplies(push: Push, withBot = true): Promise<{ reply?: string; downstreamReply?: string }> {
    const [reply, downstreamReply] = await Promise.all([this.storedReply(push), withBot ? this.store.botReplyFor(push.openid, push.dedupeKey) : null]);
    return { reply, downstreamReply: downstreamReply ?? undefined };
  }

  private async storedReply(push: Push): Promise<string | undefined> {
    return (await this.store.replyFor(push.openid, push.dedupeKey)) ?? undefined;
  }

  private async act(push: Exclude<Push, { kind: 'receipt' }>, replyTaken: boolean): Promise<{ reply?: string; workDue: boolean; unfinished?: boolean }> {
    switch (push.kind) {
      case 'unsubscribe':
        await this.window.close(push.openid);
        return { workDue: false };
      case 'other':
        return { workDue: false };
      default: {
        await this.window.open(push.openid, WINDOW_OPENED_BY[push.kind] as WindowKind);
        const { reply, released, unfinished } = await this.parking.release(push.openid, push.dedupeKey, replyTaken);
        if (unfinished === undefined) return { reply, workDue: released > 0 };
        if (!(unfinished instanceof StoreUnavailableError)) {
          this.log.error('parked notices not all released; they go out at the next interaction or expire', { err: unfinished });
          return { reply, workDue: true };
        }
        return { reply, workDue: true, unfinished: true };
      }
    }
  }
}
