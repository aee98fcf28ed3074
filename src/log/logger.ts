import pino, { type DestinationStream } from 'pino';
import { Redactor } from './redactor';

export interface Logger {
  error(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  debug(message: string, meta?: Record<string, unknown>): void;
  /** Never log this value (a key, an appsecret, an AES key, a server token): for good. */
  secret(value: string | null | undefined): void;
  /**
   * Never log this token (an access token, a ticket, a refresh token) until a day after `endsAt`
   * (epoch ms, or Infinity). A method of its own, not an optional argument of `secret`:
   * `keys.forEach(log.secret)` would pass each key's index as its end, and a key ending in 1970
   * is forgotten at once.
   */
  secretUntil(value: string, endsAt: number): void;
}

/** The levels a logger writes at (the config's `logLevel`), most severe first. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `level` as a log level; an error names the levels there are. */
export function logLevelOf(level: string): LogLevel {
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as LogLevel;
  throw new Error(`unknown log level "${level}" (one of ${LOG_LEVELS.join(', ')})`);
}

export interface LoggerOptions {
  level: string;
  /** Defaults to stdout (gatheredLines); tests pass a stream to read the JSON lines. */
  stream?: DestinationStream;
  secrets?: Array<string | null | undefined>;
}

/**
 * How many characters of lines stdout gathers before it writes them (about a hundred lines, 16 KB).
 * Written into a pipe read by `cat` (as by a log shipper), 400,000 status-change lines cost the
 * writer 0.51–0.54 µs of CPU a line gathered 16 KB at a time, against 0.80–0.81 at 4 KB: the
 * system call and the reader's wake-up come per write. 64 KB, a pipe's whole buffer, gained 0.05 more.
 */
const GATHER_CHARS = 16_384;
/** At most this long (ms) a line waits in the gathering when few come. */
const GATHER_MS = 100;

/**
 * stdout (or another file descriptor or path) for log lines, written in gatherings of
 * GATHER_CHARS: every notice writes a line per status change, and a write of each line on its own
 * costs a system call and wakes whoever reads the pipe (a log shipper) each time. What is gathered
 * is written at least every GATHER_MS and when the process exits (`exit` runs for `process.exit`
 * and a normal end); a process killed outright (SIGKILL, a crash of the runtime) loses at most the
 * last GATHER_CHARS of lines.
 *
 * The lines are gathered here, in one string, and handed to sonic-boom a gathering at a time:
 * sonic-boom (synchronous writes, no thread-pool write per line) does the writing, partial writes
 * and EAGAIN included. Gathering inside sonic-boom (its `minLength`) measured 1.5–2 µs more a line
 * (`npm run bench:log`): each write counts the UTF-8 bytes of all it holds so far.
 */
export function gatheredLines(dest: number | string = 1): DestinationStream {
  const out = pino.destination({ dest, sync: true });
  let gathered = '';
  const writeGathered = () => {
    if (gathered === '') return;
    out.write(gathered);
    gathered = '';
  };
  setInterval(writeGathered, GATHER_MS).unref();
  process.once('exit', () => {
    writeGathered();
    out.flushSync();
  });
  return {
    write(line: string) {
      gathered += line;
      if (gathered.length >= GATHER_CHARS) writeGathered();
    },
  };
}

/** The last millisecond a line was written in, and its timestamp as pino splices it into the line. */
let stampedMs = NaN;
let stamp = '';
/** The `timestamp` field: lines come in bursts (a batch's thousand), so a millisecond's text is made once. */
function isoTimestamp(): string {
  const now = Date.now();
  if (now !== stampedMs) {
    stampedMs = now;
    stamp = `,"timestamp":"${new Date(now).toISOString()}"`;
  }
  return stamp;
}

/**
 * pino (a few µs a line: the logger is on every status change of every notice), JSON lines of the
 * caller's fields with `level` (its name), `timestamp` (ISO) and `message`; every field and the
 * message pass through the redactor first. A `message` among the fields is appended to the message.
 */
export function createLogger(options: LoggerOptions): Logger {
  const level = logLevelOf(options.level);
  const redactor = new Redactor();
  for (const s of options.secrets ?? []) redactor.add(s);
  const lines = pino(
    {
      level,
      base: null, // no pid and hostname on every line
      messageKey: 'message',
      timestamp: isoTimestamp,
      // the redactor turns errors into plain objects (name, redacted message, code) before pino's own serializer would run
      serializers: { err: (err: unknown) => err },
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => redactor.value(fields) as Record<string, unknown>,
      },
    },
    options.stream ?? gatheredLines(),
  );
  const at =
    (level: LogLevel) =>
    (message: string, meta?: Record<string, unknown>): void => {
      if (!lines.isLevelEnabled(level)) return;
      if (meta === undefined) return lines[level](redactor.text(message));
      const { message: more, ...fields } = meta;
      lines[level](fields, redactor.text(more === undefined || more === '' ? message : `${message} ${String(more)}`));
    };
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), secret: (v) => redactor.add(v), secretUntil: (v, endsAt) => redactor.add(v, endsAt) };
}
