import type { Writable } from 'node:stream';
import { Redactor } from './redactor';

export interface Logger {
  error(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  debug(message: string, meta?: Record<string, unknown>): void;
  /** Never log this value (an access token fetched at run time, a key). */
  secret(value: string | null | undefined): void;
}

export interface LoggerOptions {
  level: string;
  /** Defaults to stdout; tests pass a stream to read the JSON lines. */
  stream?: Writable;
  secrets?: Array<string | null | undefined>;
}

/** npm's levels: a line is written when its level is at most the logger's. */
const LEVELS: Readonly<Record<string, number>> = { error: 0, warn: 1, info: 2, http: 3, verbose: 4, debug: 5, silly: 6 };

/**
 * JSON lines, one `write` each, with every field passed through the redactor first. A line holds
 * the caller's fields, `level`, `message` and `timestamp` (ISO), keys sorted at every depth so the
 * same event always reads the same (the lines winston wrote here before); a `message` among the
 * fields is appended to the message.
 */
export function createLogger(options: LoggerOptions): Logger {
  const threshold = LEVELS[options.level];
  if (threshold === undefined) throw new Error(`unknown log level "${options.level}" (one of ${Object.keys(LEVELS).join(', ')})`);
  const redactor = new Redactor();
  for (const s of options.secrets ?? []) redactor.add(s);
  const stream = options.stream ?? process.stdout;
  const write = (level: string, message: string, meta: Record<string, unknown> | undefined) => {
    // (Object.assign: V8 builds `{ ...meta, level }` many times slower)
    const line: Record<string, unknown> = Object.assign({}, meta);
    line.level = level;
    line.message = meta?.message ? `${message} ${String(meta.message)}` : message;
    line.timestamp = new Date().toISOString();
    stream.write(`${sortedJson(redactor.value(line))}\n`);
  };
  const at = (level: string) => (LEVELS[level] <= threshold ? (message: string, meta?: Record<string, unknown>) => write(level, message, meta) : () => {});
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), secret: (v) => redactor.add(v) };
}

/**
 * JSON of what the redactor returns (plain objects, arrays, primitives), object keys sorted;
 * a bigint is written as a string, and what JSON cannot hold is left out (in an array: null).
 */
function sortedJson(value: unknown): string | undefined {
  if (typeof value === 'bigint') return `"${value}"`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => sortedJson(v) ?? 'null').join(',')}]`;
  const record = value as Record<string, unknown>;
  let out = '';
  for (const key of Object.keys(record).sort()) {
    const json = sortedJson(record[key]);
    if (json !== undefined) out += `${out ? ',' : ''}${JSON.stringify(key)}:${json}`;
  }
  return `{${out}}`;
}
