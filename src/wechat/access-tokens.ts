/**
 * An account's access token as the API client uses it: an Official Account's own (TokenSource)
 * or a third-party platform's authoriser token.
 */
export interface AccessTokens {
  get(): Promise<string>;
  /** The token was refused (40001 and the like): forget it, unless another caller already replaced it. */
  invalidate(token: string): Promise<void>;
  /** The last refusal by the token endpoint (cleared by a success), for /readyz and GET /v1/accounts. */
  readonly lastError: (Error & { errcode?: number; fix?: string }) | null;
  /** What every instance's fetches of this token did, for GET /v1/accounts. */
  health(): Promise<TokenHealth>;
}

export interface TokenHealth {
  /** Tokens fetched from the token endpoint in the last 24 hours. */
  refreshes24h: number;
  /** The refusal of the latest fetch (since when it is refused), or null when it succeeded. */
  refusal: { errcode: number; at: string } | null;
}
