import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log/logger';

/** A real logger whose JSON lines the test can read (level `error` for a quiet one). */
export function capturedLogger(level = 'debug'): { log: Logger; text: () => string } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { log: createLogger({ level, stream }), text: () => lines.join('') };
}
