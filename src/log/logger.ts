import type { Writable } from 'node:stream';
import winston from 'winston';
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

/** winston, JSON lines, with every field passed through the redactor before it is written. */
export function createLogger(options: LoggerOptions): Logger {
  const redactor = new Redactor();
  for (const s of options.secrets ?? []) redactor.add(s);
  // Mutates only top-level keys of `info` (winston's Symbol keys stay); nested objects are copied.
  const redact = winston.format((info) => {
    const clean = redactor.value({ ...info }) as Record<string, unknown>;
    for (const key of Object.keys(info)) info[key] = clean[key];
    return info;
  });
  const transport = options.stream ? new winston.transports.Stream({ stream: options.stream }) : new winston.transports.Console();
  const w = winston.createLogger({
    level: options.level,
    format: winston.format.combine(redact(), winston.format.timestamp(), winston.format.json()),
    transports: [transport],
  });
  return {
    error: (m, meta) => w.error(m, meta),
    warn: (m, meta) => w.warn(m, meta),
    info: (m, meta) => w.info(m, meta),
    debug: (m, meta) => w.debug(m, meta),
    secret: (v) => redactor.add(v),
  };
}
