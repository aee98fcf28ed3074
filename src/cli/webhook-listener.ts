import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook, WebhookVerificationError } from './webhook-signature';

/**
 * A local receiver of wxreach's status webhooks (`wxreach webhooks listen`): verifies each POST,
 * hands the event on, and answers 204 so that wxreach counts it delivered. A request that fails
 * verification gets 401 (wxreach retries it); nothing answers 410, which would disable the endpoint.
 */

/** Payloads are at most 20 KiB; anything far larger is not from wxreach. */
const BODY_LIMIT_BYTES = 256 * 1024;

export interface ReceivedWebhook {
  /** The `webhook-id` header: the same on every retry of one delivery. */
  webhookId: string;
  /** `{ type, timestamp, data }` as sent. */
  payload: Record<string, unknown>;
  /** This webhook-id was received before (a retry after an answer that did not arrive). */
  again: boolean;
}

export interface ListenerOptions {
  port: number;
  host: string;
  /** The signing key (`webhookKey(secret)`). */
  key: Buffer;
  onEvent: (event: ReceivedWebhook) => void;
  /** A request that was refused, and why. */
  onRejected: (reason: string) => void;
  now?: () => number;
}

export interface Listener {
  url: string;
  close(): Promise<void>;
}

const header = (req: IncomingMessage, name: string) => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

function answer(res: ServerResponse, status: number, text = ''): void {
  res.writeHead(status, text ? { 'content-type': 'text/plain; charset=utf-8' } : {});
  res.end(text);
}

export async function listenForWebhooks(o: ListenerOptions): Promise<Listener> {
  const now = o.now ?? Date.now;
  const seen = new Set<string>();

  async function receive(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return answer(res, 405, 'POST webhooks here');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > BODY_LIMIT_BYTES) {
        o.onRejected(`a body over ${BODY_LIMIT_BYTES} bytes`);
        res.setHeader('connection', 'close');
        return answer(res, 413, 'too large');
      }
      chunks.push(chunk);
    }
    const body = Buffer.concat(chunks);
    const webhookId = header(req, 'webhook-id');
    try {
      verifyWebhook(o.key, { id: webhookId, timestamp: header(req, 'webhook-timestamp'), signature: header(req, 'webhook-signature') }, body, now());
    } catch (err) {
      if (!(err instanceof WebhookVerificationError)) throw err;
      o.onRejected(err.message);
      return answer(res, 401, err.message);
    }
    let payload: unknown;
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch {
      payload = null;
    }
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      o.onRejected('a signed body that is not a JSON object');
      return answer(res, 400, 'not a JSON object');
    }
    const id = webhookId as string;
    o.onEvent({ webhookId: id, payload: payload as Record<string, unknown>, again: seen.has(id) });
    seen.add(id);
    answer(res, 204);
  }

  const server = createServer((req, res) => {
    receive(req, res).catch((err: unknown) => {
      o.onRejected(`internal error: ${(err as Error).message}`);
      if (!res.headersSent) answer(res, 500, 'internal error');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `http://${host}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
