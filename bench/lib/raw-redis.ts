import { connect } from 'node:net';

/**
 * A load generator's Redis client, as raw-http.ts is for HTTP: the commands' RESP bytes are built
 * before timing, written on one connection, and their replies counted rather than decoded, so
 * what is measured is Redis's work, not a client library's.
 */

/** One command as RESP (an array of bulk strings). */
export function respCommand(args: readonly string[]): string {
  let out = `*${args.length}\r\n`;
  for (const arg of args) out += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
  return out;
}

/** Commands sent together: their bytes, and how many replies they take. */
export interface RespBatch {
  bytes: Buffer;
  commands: number;
}

const NEWLINE = 0x0a;
const ERROR = 0x2d; // '-'
const ARRAY = 0x2a; // '*'
const BULK = 0x24; // '$'

/**
 * Sends `batches` to the Redis on `port`, `inFlight` at a time, over one connection (Redis answers
 * in order). Every command must answer one line (an integer or a status): an error reply, or a
 * reply of several lines, rejects, so a command that did not do its write cannot pass unseen.
 */
export function sendBatches(port: number, batches: readonly RespBatch[], inFlight: number): Promise<void> {
  if (batches.length === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    // the number of replies at which each batch sent so far is answered
    const ends: number[] = [];
    let expected = 0;
    let received = 0;
    let answered = 0;
    let atLineStart = true;
    const fail = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    const sendMore = () => {
      while (ends.length < batches.length && ends.length - answered < inFlight) {
        const batch = batches[ends.length];
        expected += batch.commands;
        ends.push(expected);
        socket.write(batch.bytes);
      }
    };
    socket.on('data', (chunk: Buffer) => {
      for (let at = 0; at < chunk.length; ) {
        if (atLineStart && (chunk[at] === ERROR || chunk[at] === ARRAY || chunk[at] === BULK)) {
          const end = chunk.indexOf(NEWLINE, at);
          const line = chunk.toString('latin1', at, end < 0 ? chunk.length : end).trim();
          return fail(new Error(`Redis answered a command with ${chunk[at] === ERROR ? 'an error' : 'more than one line'}: ${line}`));
        }
        const end = chunk.indexOf(NEWLINE, at);
        if (end < 0) {
          atLineStart = false;
          break;
        }
        received += 1;
        atLineStart = true;
        at = end + 1;
      }
      while (answered < ends.length && received >= ends[answered]) answered += 1;
      if (answered === batches.length) {
        socket.end();
        resolve();
      } else sendMore();
    });
    socket.on('error', fail);
    socket.on('connect', sendMore);
  });
}
