import { randomBytes } from 'node:crypto';
import type { VirtualClock } from '../clock';
import { COMPONENT_ERRCODE } from './errcodes';

interface Issued<T> {
  data: T;
  expiresAt: number;
  used: boolean;
}

/** A fresh code as WeChat writes them: a kind prefix, `@@@`, an opaque part. */
export function opaqueCode(prefix: string): string {
  return `${prefix}@@@${randomBytes(33).toString('base64url')}`;
}

/**
 * Short-lived codes on the virtual clock (pre-authorisation codes, authorisation codes), each
 * carrying what it was issued for. Used codes are remembered so a second use is told apart
 * from an expired one.
 */
export class CodeBook<T extends object | string> {
  private readonly codes = new Map<string, Issued<T>>();

  constructor(
    private readonly clock: VirtualClock,
    private readonly prefix: string,
    readonly ttlSeconds: number,
  ) {}

  issue(data: T): string {
    this.prune();
    const code = opaqueCode(this.prefix);
    this.codes.set(code, { data, expiresAt: this.clock.now() + this.ttlSeconds * 1000, used: false });
    return code;
  }

  /** The code's data while it is unused and unexpired. */
  peek(code: string): T | undefined {
    const c = this.codes.get(code);
    return c && !c.used && this.clock.now() < c.expiresAt ? c.data : undefined;
  }

  /** Uses the code once: its data, or 61009 (unknown or used) / 61010 (expired). */
  take(code: string): T | typeof COMPONENT_ERRCODE.CODE_INVALID | typeof COMPONENT_ERRCODE.CODE_EXPIRED {
    const c = this.codes.get(code);
    if (!c || c.used) return COMPONENT_ERRCODE.CODE_INVALID;
    if (this.clock.now() >= c.expiresAt) return COMPONENT_ERRCODE.CODE_EXPIRED;
    c.used = true;
    return c.data;
  }

  clear(): void {
    this.codes.clear();
  }

  /** Keeps memory bounded: codes a day past their expiry are forgotten. */
  private prune(): void {
    if (this.codes.size < 1000) return;
    const horizon = this.clock.now() - 86_400_000;
    for (const [code, c] of this.codes) if (c.expiresAt < horizon) this.codes.delete(code);
  }
}
