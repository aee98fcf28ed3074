import type { EmulatorCore } from '../core';

export interface ApiRequest {
  query: URLSearchParams;
  body: string;
  /** Per-call request id, appended to errmsg like WeChat's "rid: …". */
  rid: string;
}

/** A JSON text (not an object) so msgids can be written as bare 64-bit literals. */
export type ApiAnswer = string;

export type ApiHandler = (core: EmulatorCore, req: ApiRequest) => ApiAnswer | Promise<ApiAnswer>;

export interface ApiRoute {
  method: 'GET' | 'POST';
  /** false only for the token endpoints themselves. */
  needsToken: boolean;
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
