import type { VirtualClock } from '../clock';
import { opaqueCode } from './codes';
import { COMPONENT_ERRCODE } from './errcodes';

/** A component_verify_ticket is good for 12 hours. */
const TICKET_LIFETIME_MS = 12 * 3600_000;
/** Tickets remembered to tell "expired" (61005) from "never issued" (61006). */
const REMEMBERED = 1000;

interface Ticket {
  value: string;
  mintedAt: number;
}

/**
 * The component_verify_tickets the emulator pushed. api_component_token takes the latest one or
 * the one before, while under 12 hours old. A ticket whose push never got a 2xx answer is
 * withdrawn (nobody could have stored it), so the receiver's last ticket stays the latest while
 * pushes fail, as "keep using the latest ticket if pushes stop" expects.
 */
export class TicketBook {
  /** Pushed or being pushed, oldest first. */
  private live: Ticket[] = [];
  private readonly issued = new Set<string>();

  constructor(private readonly clock: VirtualClock) {}

  mint(): string {
    const value = opaqueCode('ticket');
    this.live.push({ value, mintedAt: this.clock.now() });
    if (this.live.length > 2) this.live.shift();
    this.issued.add(value);
    if (this.issued.size > REMEMBERED) this.issued.delete(this.issued.values().next().value!);
    return value;
  }

  withdraw(value: string): void {
    this.live = this.live.filter((t) => t.value !== value);
  }

  /** The newest ticket that may be used, if any. */
  current(): string | undefined {
    const t = this.live.at(-1);
    return t && this.usable(t) ? t.value : undefined;
  }

  check(value: unknown): 0 | typeof COMPONENT_ERRCODE.TICKET_EXPIRED | typeof COMPONENT_ERRCODE.TICKET_INVALID {
    if (typeof value !== 'string' || !this.issued.has(value)) return COMPONENT_ERRCODE.TICKET_INVALID;
    const t = this.live.find((x) => x.value === value);
    return t && this.usable(t) ? 0 : COMPONENT_ERRCODE.TICKET_EXPIRED;
  }

  clear(): void {
    this.live = [];
    this.issued.clear();
  }

  private usable(t: Ticket): boolean {
    return this.clock.now() - t.mintedAt < TICKET_LIFETIME_MS;
  }
}
