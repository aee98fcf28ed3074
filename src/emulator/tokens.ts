import { ERRCODE } from '../wechat/errcodes';
import type { VirtualClock } from './clock';
import type { IdSource } from './ids';

type TokenKind = 'classic' | 'stable';
interface Issued {
  kind: TokenKind;
  expiresAt: number;
}

/** Classic tokens: after a new one is issued the previous stays valid this long (docs/wechat-protocol-notes.md "Access tokens"). */
const OVERLAP_MS = 300_000;

export type TokenCheck = 0 | typeof ERRCODE.ACCESS_TOKEN_MISSING | typeof ERRCODE.INVALID_CREDENTIAL | typeof ERRCODE.ACCESS_TOKEN_EXPIRED;

/**
 * Access tokens on the virtual clock. `/cgi-bin/token` and `/cgi-bin/stable_token` are isolated
 * from each other, as on WeChat. Expired tokens are remembered so they answer 42001 rather than 40001.
 */
export class TokenBook {
  private readonly issued = new Map<string, Issued>();
  private readonly current: Record<TokenKind, string | undefined> = { classic: undefined, stable: undefined };

  constructor(
    private readonly clock: VirtualClock,
    private readonly ids: IdSource,
    private readonly expiresInS: number,
  ) {}

  check(token: string | null): TokenCheck {
    if (!token) return ERRCODE.ACCESS_TOKEN_MISSING;
    const t = this.issued.get(token);
    if (!t) return ERRCODE.INVALID_CREDENTIAL;
    return this.clock.now() >= t.expiresAt ? ERRCODE.ACCESS_TOKEN_EXPIRED : 0;
  }

  /** `/cgi-bin/token`: always a new token; the previous one keeps at most 5 more minutes. */
  issueClassic(): { access_token: string; expires_in: number } {
    const prev = this.current.classic && this.issued.get(this.current.classic);
    if (prev) prev.expiresAt = Math.min(prev.expiresAt, this.clock.now() + OVERLAP_MS);
    return this.mint('classic');
  }

  /**
   * `/cgi-bin/stable_token`: the same token while it has more than the pre-rotation margin left
   * (5 min, or half the lifetime when that is shorter); force_refresh kills the old one at once.
   */
  issueStable(forceRefresh: boolean): { access_token: string; expires_in: number } {
    const cur = this.current.stable;
    const t = cur ? this.issued.get(cur) : undefined;
    if (cur && t && forceRefresh) this.issued.delete(cur);
    const margin = Math.min(OVERLAP_MS, (this.expiresInS * 1000) / 2);
    if (cur && t && !forceRefresh && t.expiresAt - this.clock.now() > margin) {
      return { access_token: cur, expires_in: Math.floor((t.expiresAt - this.clock.now()) / 1000) };
    }
    return this.mint('stable');
  }

  /** Control: new current tokens for both kinds, every older one invalid (40001) at once. */
  rotate(): { classic: string; stable: string } {
    this.issued.clear();
    return { classic: this.mint('classic').access_token, stable: this.mint('stable').access_token };
  }

  /** Control: every token invalid (40001); the next fetch mints a fresh one. */
  invalidate(): void {
    this.issued.clear();
    this.current.classic = undefined;
    this.current.stable = undefined;
  }

  private mint(kind: TokenKind): { access_token: string; expires_in: number } {
    const token = this.ids.accessToken();
    this.issued.set(token, { kind, expiresAt: this.clock.now() + this.expiresInS * 1000 });
    this.current[kind] = token;
    this.prune();
    return { access_token: token, expires_in: this.expiresInS };
  }

  /** Keeps memory bounded when a client fetches tokens in a loop. */
  private prune(): void {
    if (this.issued.size < 1000) return;
    const horizon = this.clock.now() - 3600_000;
    for (const [token, t] of this.issued) if (t.expiresAt < horizon) this.issued.delete(token);
  }
}
