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
}
