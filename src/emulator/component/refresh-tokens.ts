import type { VirtualClock } from '../clock';
import { OVERLAP_MS } from '../tokens';
import { opaqueCode } from './codes';

/**
 * One merchant's authorizer refresh tokens. They never expire on their own; each exchange issues
 * a new one and leaves every older one at most 5 more minutes (virtual clock), and a revocation
 * ends them all.
 */
export class RefreshTokens {
  /** token → when it stops working (Infinity for the current one). */
  private readonly tokens = new Map<string, number>();
  private latest = '';

  constructor(private readonly clock: VirtualClock) {}

  /** The current token, or '' when the authorisation was never exchanged. */
  current(): string {
    return this.latest;
  }

  valid(token: string): boolean {
    const until = this.tokens.get(token);
    return until !== undefined && this.clock.now() < until;
  }

  rotate(): string {
    const now = this.clock.now();
    for (const [token, until] of this.tokens) {
      if (until <= now) this.tokens.delete(token);
      else this.tokens.set(token, Math.min(until, now + OVERLAP_MS));
    }
    this.latest = opaqueCode('refreshtoken');
    this.tokens.set(this.latest, Infinity);
    return this.latest;
  }

  revokeAll(): void {
    this.tokens.clear();
    this.latest = '';
  }
}
