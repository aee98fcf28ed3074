import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One request a receiver got, checked with the `standardwebhooks` package as any receiver would. */
export interface Received {
  id: string;
  type: string;
  /** The parsed body, when the signature verified; null otherwise. */
  payload: { type: string; timestamp: string; data: Record<string, unknown> } | null;
  verified: boolean;
  body: string;
  /** The Standard Webhooks headers as they came. */
  headers: { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string };
  /** The status it was answered with ('hang': never answered; 'reset': the connection was cut instead). */
  answered: number | 'hang' | 'reset';
  at: number;
}

/**
 * How the receiver answers a request (`count`: how many times it has seen this webhook-id, this one
 * included): a status, 'hang' (never answers; the connection stays open) or 'reset' (the connection
 * is cut, TCP RST, before any answer).
 */
export type Responder = (r: { id: string; type: string; count: number }) => number | 'hang' | 'reset';

export interface Receiver {
  url: string;
  secret: string;
  requests: Received[];
  /** The requests it answered with a 2xx. */
  accepted(): Received[];
  respond(responder: Responder): void;
  /** Verifies with this secret from now on (one wxreach made when the endpoint was registered). */
  verifyWith(secret: string): void;
  /** Resolves once `check` holds for the requests (polls every 10 ms). */
  until(check: (requests: Received[]) => boolean, timeoutMs?: number, what?: string): Promise<void>;
  close(): Promise<void>;
}

/** A webhook receiver on 127.0.0.1 (a real HTTP server). */
export async function startReceiver(secret: string, responder: Responder = () => 200): Promise<Receiver> {
  let verifier = new Webhook(secret);
  const requests: Received[] = [];
  const seen = new Map<string, number>();
  const hanging = new Set<ServerResponse>();
  let respond = responder;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = { 'webhook-id': String(req.headers['webhook-id']), 'webhook-timestamp': String(req.headers['webhook-timestamp']), 'webhook-signature': String(req.headers['webhook-signature']) };
      let payload: Received['payload'];
      try {
        payload = verifier.verify(body, headers) as Received['payload'];
      } catch {
        payload = null;
      }
      const id = headers['webhook-id'];
      const type = payload?.type ?? '?';
      const count = (seen.get(id) ?? 0) + 1;
      seen.set(id, count);
      const answered = respond({ id, type, count });
      requests.push({ id, type, payload, verified: payload !== null, body, headers, answered, at: Date.now() });
      if (answered === 'hang') {
        hanging.add(res);
        return;
      }
      if (answered === 'reset') {
        req.socket.resetAndDestroy();
        return;
      }
      res.statusCode = answered;
      res.end(answered >= 200 && answered < 300 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    secret,
    requests,
    accepted: () => requests.filter((r) => typeof r.answered === 'number' && r.answered >= 200 && r.answered < 300),
    respond(next) {
      respond = next;
    },
    verifyWith(next) {
      verifier = new Webhook(next);
    },
    async until(check, timeoutMs = 10_000, what = 'the receiver to get what it waits for') {
      const deadline = Date.now() + timeoutMs;
      while (!check(requests)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; it got ${JSON.stringify(requests.map((r) => [r.type, r.id, r.answered]))}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A fresh Standard Webhooks secret for a test receiver. */
export const testSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;
