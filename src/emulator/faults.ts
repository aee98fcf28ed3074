import { ERRCODE } from '../wechat/errcodes';

export interface FaultSettings {
  /** Added before answering (ms). */
  latencyMs?: number;
  /** Share of calls answered with `errcode` (default -1 "system error"). */
  errcodeRate?: number;
  /** The errcode those calls get, e.g. 45011 (per-minute limit) or 40164 (IP not whitelisted, on the token paths). */
  errcode?: number;
  /** Share of calls answered HTTP 502 with an HTML body. */
  http5xxRate?: number;
  /** Share of calls whose connection is dropped without an answer. */
  dropRate?: number;
  /** Only these paths (e.g. '/cgi-bin/message/template/send'); all /cgi-bin paths when unset. */
  paths?: string[];
}

export type FaultAction = 'drop' | 'http5xx' | 'errcode' | undefined;

/** Injected misbehaviour of the WeChat API paths (never of the control API). */
export class Faults {
  private s: FaultSettings = {};

  set(settings: FaultSettings): FaultSettings {
    this.s = { ...settings };
    return this.get();
  }

  get(): FaultSettings {
    return { ...this.s };
  }

  private applies(path: string): boolean {
    return !this.s.paths || this.s.paths.length === 0 || this.s.paths.includes(path);
  }

  /** The errcode answered by an 'errcode' fault. */
  errcode(): number {
    return this.s.errcode ?? ERRCODE.SYSTEM_BUSY;
  }

  latencyFor(path: string): number {
    return this.s.latencyMs && this.applies(path) ? this.s.latencyMs : 0;
  }

  /** One draw per call, so the rates are disjoint shares (drop, then 5xx, then -1). */
  actionFor(path: string): FaultAction {
    const { dropRate = 0, http5xxRate = 0, errcodeRate = 0 } = this.s;
    if (dropRate + http5xxRate + errcodeRate === 0 || !this.applies(path)) return undefined;
    const r = Math.random();
    if (r < dropRate) return 'drop';
    if (r < dropRate + http5xxRate) return 'http5xx';
    if (r < dropRate + http5xxRate + errcodeRate) return 'errcode';
    return undefined;
  }
}
