import { CUSTOM_SEND_PATH, TEMPLATE_SEND_PATH } from '../wechat/api-client';
import { WechatApiError, WechatTransportError } from '../wechat/api-errors';

/** The WeChat call behind a step of a notice's history: its path, WeChat's errcode (null: no answer) and how long it took. */
export interface WechatCall {
  path: string;
  errcode: number | null;
  ms: number;
}

/** Every history line is stored: the two sends are kept as one letter. */
const SHORT_PATHS: Readonly<Record<string, string>> = { t: TEMPLATE_SEND_PATH, c: CUSTOM_SEND_PATH };
const SHORT_OF: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(SHORT_PATHS).map(([short, path]) => [path, short]));

/**
 * The call to `path` that began at `startedAt` (performance.now()) and ended with `error` (none:
 * errcode 0). An error names the path it came from (the token endpoint, when no token could be
 * had); an error that is not WeChat's (a bug) is no call.
 */
export function wechatCallOf(path: string, startedAt: number, error?: unknown): WechatCall | undefined {
  const ms = Math.round(performance.now() - startedAt);
  if (error === undefined) return { path, errcode: 0, ms };
  if (error instanceof WechatApiError) return { path: error.path, errcode: error.errcode, ms };
  if (error instanceof WechatTransportError) return { path: error.path, errcode: null, ms };
  return undefined;
}

/** The stored form: `<path or its letter>,<errcode or ''>,<ms>` (paths hold no comma). */
export function packCall(call: WechatCall): string {
  return `${SHORT_OF[call.path] ?? call.path},${call.errcode ?? ''},${call.ms}`;
}

/** The stored form read back (the one place that expands it). */
export function unpackCall(packed: string): WechatCall {
  const [path, errcode, ms] = packed.split(',');
  return { path: SHORT_PATHS[path] ?? path, errcode: errcode === '' ? null : Number(errcode), ms: Number(ms) };
}
