import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A webhook receiver for the benches: node:http on 127.0.0.1, answering 204 to every request once
 * its body is in. It verifies nothing (the tests do that); it counts, and for each request keeps
 * when it arrived and how long after its event (the payload's `timestamp`) that was.
 */
export interface CountingReceiver {
  url: string;
  /** Requests since the last `reset`. */
  readonly count: number;
  /** Arrival time (ms) of the last request since the last `reset`. */
  readonly lastAt: number;
  /** Per request since the last `reset`: arrival minus the event's timestamp (ms). */
  readonly lags: number[];
  /** The bodies that came to `path` since the last `reset` (to send the same ones again). */
  bodiesOf(path: string): string[];
  /** Forgets the requests so far; bodies are kept for the paths in `keepBodiesOf`. */
  reset(keepBodiesOf?: readonly string[]): void;
  /** Resolves once `count` requests came, or throws after `timeoutMs`. */
  until(count: number, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** The event time near the start of a body (`{"type":"…","timestamp":"…",…`), without parsing the whole of it. */
const TIMESTAMP = /"timestamp":"([^"]+)"/;

export async function startCountingReceiver(): Promise<CountingReceiver> {
  let count = 0;
  let lastAt = 0;
  let lags: number[] = [];
  let keep = new Set<string>();
  let bodies = new Map<string, string[]>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      const body = Buffer.concat(chunks).toString('utf8');
      const event = TIMESTAMP.exec(body.slice(0, 200));
      if (event) lags.push(at - Date.parse(event[1]));
      const path = req.url ?? '/';
      if (keep.has(path)) {
        const kept = bodies.get(path) ?? [];
        kept.push(body);
        bodies.set(path, kept);
      }
      count += 1;
      lastAt = at;
      res.statusCode = 204;
      res.end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get count() {
      return count;
    },
    get lastAt() {
      return lastAt;
    },
    get lags() {
      return lags;
    },
    bodiesOf: (path) => bodies.get(path) ?? [],
    reset(keepBodiesOf = []) {
      count = 0;
      lastAt = 0;
      lags = [];
      keep = new Set(keepBodiesOf);
      bodies = new Map();
    },
    async until(expected, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (count < expected) {
        if (Date.now() > deadline) throw new Error(`the receiver got ${count} of ${expected} requests in ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
