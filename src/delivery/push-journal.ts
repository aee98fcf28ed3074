import type { Logger } from '../log/logger';
import type { FileJournal } from '../store/file-journal';
import { StoreUnavailableError } from '../store/unavailable';
import type { Push } from '../wechat/push';
import type { PushIntake, PushOutcome } from './push-intake';

/**
 * A journal entry: the push and its account (applied later it gives no passive reply, so when it
 * came does not matter). Entries written before accounts were recorded have no `account`: they
 * belong to the single account.
 */
export interface JournaledPush {
  account?: string;
  push: Push;
}

/**
 * A push that reached wxreach is never lost because the store was briefly away. WeChat re-sends
 * an unanswered push only a few times within about 15 s, so answering 500 during a longer store
 * outage would lose receipts (and then the receipt timeout would send the text to a user who got
 * the template). Instead the push is written to a local durable journal, WeChat is answered
 * `success`, and the push is applied when the store answers again: without a passive reply (its
 * moment has passed; released notices go through customer service) and without forwarding.
 */
export class JournaledPushes {
  private replaying = false;

  constructor(
    /** The push intake of an account (`null`: the single account, for entries that name none). */
    private readonly intakeFor: (account: string | null) => PushIntake | null,
    private readonly journal: FileJournal<JournaledPush>,
    private readonly log: Logger,
  ) {}

  /** `storeAway`: the caller just found the store unreachable; keep the push without trying it again. */
  async handle(account: string, push: Push, forward?: () => Promise<string | undefined>, receivedAt: number = Date.now(), storeAway = false): Promise<PushOutcome> {
    if (storeAway) return this.keep(account, push);
    try {
      const outcome = await this.intake(account).handle(push, forward, receivedAt);
      // Answered with its passive reply, but the rest of it waits for the store: kept for the replay.
      if (outcome.unfinished) this.keep(account, push);
      return outcome;
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      return this.keep(account, push);
    }
  }

  private intake(account: string | null): PushIntake {
    const intake = this.intakeFor(account);
    if (!intake) throw new Error(`no account ${account ?? '(single)'} to apply a push to`);
    return intake;
  }

  private keep(account: string, push: Push): PushOutcome {
    this.journal.append({ account, push });
    this.log.warn('store unreachable: push kept in the local journal until it is back', { account, kind: push.kind, dedupeKey: push.dedupeKey });
    return { workDue: false };
  }

  /** Applies what the journal holds, if anything; stops quietly while the store is still away. */
  async replay(): Promise<number> {
    if (this.replaying || !this.journal.pending) return 0;
    this.replaying = true;
    try {
      const applied = await this.journal.drain(
        (entry) => this.intake(entry.account ?? null).handle(entry.push, undefined, undefined, true).then(() => undefined),
        (line) => this.log.error('unreadable line in the push journal dropped', { bytes: line.length }),
      );
      if (applied > 0) this.log.info('journaled pushes applied', { applied });
      return applied;
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) this.log.error('cannot apply the push journal; trying again', { err });
      return 0;
    } finally {
      this.replaying = false;
    }
  }
}
