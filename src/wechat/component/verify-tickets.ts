import type { Logger } from '../../log/logger';
import type { KeyValueStore } from '../../store/store';
import { underLock } from './kv-lock';

/** The latest component_verify_ticket WeChat pushed, as kept. */
export interface VerifyTicket {
  ticket: string;
  /** The push's CreateTime (epoch seconds): the newest one wins. */
  createTime: number;
}

export class TicketWaitError extends Error {
  constructor(waitedMs: number) {
    super(
      `no component_verify_ticket arrived within ${Math.round(waitedMs / 1000)} s of asking WeChat for one (api_start_push_ticket): ` +
        'check that the authorisation-event URL in the open platform console is <publicUrl>/wechat/component and reachable from WeChat',
    );
    this.name = 'TicketWaitError';
  }
}

export interface VerifyTicketsOptions {
  kv: KeyValueStore;
  /** Asks WeChat to push a ticket (api_start_push_ticket). */
  requestPush: () => Promise<void>;
  /** How long to wait for a requested ticket before giving up. */
  waitMs: number;
  log: Logger;
  /** Every ticket seen, with when it ends (epoch ms), so the logger can redact it. */
  onSecret: (value: string, endsAt: number) => void;
}

const KEY = 'component:verify_ticket';
/** How long WeChat honours a ticket after its push (docs: 12 hours). */
const TICKET_VALID_MS = 12 * 3600_000;
const endOf = (createTime: number) => createTime * 1000 + TICKET_VALID_MS;
const LOCK = 'component:verify_ticket';
const POLL_MS = 100;

/**
 * The verify ticket WeChat pushes every 10 minutes to the authorisation-event URL, valid 12 hours:
 * the newest (by CreateTime) is kept in the deployment store, with no expiry, so it survives
 * restarts and is still used if pushes stop for a while. There is no API to fetch one; a caller
 * that needs one asks WeChat to push it and waits for it to be kept.
 */
export class VerifyTickets {
  /** One push request and wait per process at a time; another instance's wait sees the same ticket. */
  private waiting: Promise<VerifyTicket> | null = null;

  constructor(private readonly o: VerifyTicketsOptions) {}

  async latest(): Promise<VerifyTicket | null> {
    const raw = await this.o.kv.getValue(KEY);
    if (!raw) return null;
    try {
      const { ticket, createTime } = JSON.parse(raw) as Record<string, unknown>;
      if (typeof ticket !== 'string' || typeof createTime !== 'number') return null;
      this.o.onSecret(ticket, endOf(createTime));
      return { ticket, createTime };
    } catch {
      return null;
    }
  }

  /**
   * Keeps `ticket` unless a newer one is kept already (pushes can arrive out of order, and be
   * re-sent); true when kept. Of two tickets with the same CreateTime second, the later arrival wins.
   */
  async keep(ticket: string, createTime: number): Promise<boolean> {
    this.o.onSecret(ticket, endOf(createTime));
    return underLock(this.o.kv, LOCK, async () => {
      const current = await this.latest();
      if (current && (current.createTime > createTime || current.ticket === ticket)) return false;
      await this.o.kv.setValue(KEY, JSON.stringify({ ticket, createTime }));
      return true;
    });
  }

  /**
   * A ticket other than `than` (any, when null): asks WeChat to push one and waits for it to be
   * kept. Throws TicketWaitError when none arrives in time.
   */
  async awaitNewer(than: VerifyTicket | null): Promise<VerifyTicket> {
    this.waiting ??= this.requestAndWait(than).finally(() => {
      this.waiting = null;
    });
    const got = await this.waiting;
    // A wait that started for no ticket may end with the very one this caller has: wait again.
    return than === null || got.ticket !== than.ticket ? got : this.awaitNewer(than);
  }

  private async requestAndWait(than: VerifyTicket | null): Promise<VerifyTicket> {
    this.o.log.warn('asking WeChat to push a component_verify_ticket', { reason: than ? 'the ticket was refused' : 'no ticket kept' });
    await this.o.requestPush();
    const started = Date.now();
    for (;;) {
      const current = await this.latest();
      if (current && current.ticket !== than?.ticket) return current;
      if (Date.now() - started >= this.o.waitMs) throw new TicketWaitError(this.o.waitMs);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
}
