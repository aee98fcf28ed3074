import { ERRCODE } from '../wechat/errcodes';
import type { VirtualClock } from './clock';
import type { IdSource } from './ids';

/**
 * `classic` and `stable`: an account's own tokens; `authorizer`: a merchant's tokens issued to the
 * component; `component`: the component's own.
 */
export type TokenKind = 'classic' | 'stable' | 'authorizer' | 'component';
/** The kinds where every fetch gives a new token and the previous one keeps 5 more minutes. */
export type ReplacingKind = Exclude<TokenKind, 'stable'>;

interface Issued {
  kind: TokenKind;
  expiresAt: number;
}

/** After a new token is issued the previous one stays valid this long (docs/wechat-protocol-notes.md "Access tokens"). */
export const OVERLAP_MS = 300_000;

export type TokenCheck = 0 | typeof ERRCODE.ACCESS_TOKEN_MISSING | typeof ERRCODE.INVALID_CREDENTIAL | typeof ERRCODE.ACCESS_TOKEN_EXPIRED;

/**
 * Access tokens on the virtual clock. `/cgi-bin/token` and `/cgi-bin/stable_token` are isolated
 * from each other, as on WeChat. Expired tokens are remembered so they answer 42001 rather than 40001.
 */
export class TokenBook {
  private readonly issued = new Map<string, Issued>();
  private readonly current = new Map<TokenKind, string>();

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

  /** Whether this book issued the token (valid or expired): how an API call finds its account. */
  knows(token: string): boolean {
    return this.issued.has(token);
  }

  kindOf(token: string): TokenKind | undefined {
    return this.issued.get(token)?.kind;
  }

  /** `/cgi-bin/token` and its kin: always a new token; the previous one keeps at most 5 more minutes. */
  issueReplacing(kind: ReplacingKind): { access_token: string; expires_in: number } {
    const cur = this.current.get(kind);
    const prev = cur && this.issued.get(cur);
    if (prev) prev.expiresAt = Math.min(prev.expiresAt, this.clock.now() + OVERLAP_MS);
    return this.mint(kind);
  }

  /**
   * `/cgi-bin/stable_token`: the same token while it has more than the pre-rotation margin left
   * (5 min, or half the lifetime when that is shorter); force_refresh kills the old one at once.
   */
  issueStable(forceRefresh: boolean): { access_token: string; expires_in: number } {
    const cur = this.current.get('stable');
    const t = cur ? this.issued.get(cur) : undefined;
    if (cur && t && forceRefresh) this.issued.delete(cur);
    const margin = Math.min(OVERLAP_MS, (this.expiresInS * 1000) / 2);
    if (cur && t && !forceRefresh && t.expiresAt - this.clock.now() > margin) {
      return { access_token: cur, expires_in: Math.floor((t.expiresAt - this.clock.now()) / 1000) };
    }
    return this.mint('stable');
  }

  /** Control: new current tokens for both own kinds, every older one invalid (40001) at once. */
  rotate(): { classic: string; stable: string } {
    this.invalidate();
    return { classic: this.mint('classic').access_token, stable: this.mint('stable').access_token };
  }

  /** Control: every token invalid (40001); the next fetch mints a fresh one. */
  invalidate(): void {
    this.issued.clear();
    this.current.clear();
  }

  /** Every token of one kind invalid (40001), e.g. a merchant's authorizer tokens when it revokes the component. */
  revoke(kind: TokenKind): void {
    for (const [token, t] of this.issued) if (t.kind === kind) this.issued.delete(token);
    this.current.delete(kind);
  }

  private mint(kind: TokenKind): { access_token: string; expires_in: number } {
    const token = this.ids.accessToken();
    this.issued.set(token, { kind, expiresAt: this.clock.now() + this.expiresInS * 1000 });
    this.current.set(kind, token);
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
