import type { Account } from '../account';

export interface ApiRequest {
  query: URLSearchParams;
  body: string;
  /** Per-call request id, appended to errmsg like WeChat's "rid: …". */
  rid: string;
}

/** A JSON text (not an object) so msgids can be written as bare 64-bit literals. */
export type ApiAnswer = string;

export type ApiHandler = (account: Account, req: ApiRequest) => ApiAnswer | Promise<ApiAnswer>;

export interface ApiRoute {
  method: 'GET' | 'POST';
  /**
   * How a call names its account: its access_token (an own token, or a merchant's authorizer
   * token), or, for the token endpoints themselves, the appid it asks a token for.
   */
  caller: 'access_token' | ((req: ApiRequest) => unknown);
  /** A call with an authorizer token needs the merchant to have granted this permission set (else 61007). */
  permissionSet?: number;
  handler: ApiHandler;
}

/** A JSON object body, or undefined when it is malformed or not an object (→ 47001). */
export function jsonObject(body: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(body);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
