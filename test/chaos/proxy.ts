import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxyStats {
  requests: number;
  /** A backend refused the connection (down) and the next one was tried. */
  failovers: number;
  /** No backend answered (or one failed mid-request): 502 to the caller, who retries. */
  badGateway: number;
}

export interface Proxy {
  url: string;
  stats: ProxyStats;
  close(): Promise<void>;
}

/** Errors that prove the backend never got the request: safe to try another one. */
const NOT_CONNECTED = new Set(['ECONNREFUSED']);

/**
 * A round-robin HTTP proxy in front of wxreach instances, like a load balancer: a refused
 * connection (the instance is down) goes to the next backend; a failure after the request was
 * sent is a 502 (the caller decides whether to repeat: WeChat re-sends pushes, the business
 * client repeats with its Idempotency-Key).
 */
export async function startProxy(backends: () => string[]): Promise<Proxy> {
  const agent = new Agent({ keepAlive: true, maxSockets: 128 });
  const stats: ProxyStats = { requests: 0, failovers: 0, badGateway: 0 };
  let next = 0;

  function forward(target: string, req: IncomingMessage, body: Buffer): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const url = new URL(req.url ?? '/', target);
      const headers = { ...req.headers, host: url.host, 'content-length': String(body.length) };
      delete headers['transfer-encoding'];
      const out = request(url, { method: req.method, headers, agent }, resolve);
      // A reset, even on a pooled socket, may come from a backend killed while handling this very
      // request: not provably undelivered, so it is a 502 and not a silent repeat.
      out.on('error', reject);
      out.end(body);
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    stats.requests += 1;
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const targets = backends();
    const start = next++ % Math.max(1, targets.length);
    let lastError = 'no backend';
    for (let i = 0; i < targets.length; i++) {
      const target = targets[(start + i) % targets.length];
      let upstream: IncomingMessage;
      try {
        upstream = await forward(target, req, body);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? '';
        lastError = `${target}: ${code || (err as Error).message}`;
        if (NOT_CONNECTED.has(code)) {
          stats.failovers += 1;
          continue;
        }
        break;
      }
      const parts: Buffer[] = [];
      try {
        for await (const c of upstream) parts.push(c as Buffer);
      } catch (err) {
        lastError = `${target}: answer cut: ${(err as Error).message}`;
        break;
      }
      if (!upstream.complete) {
        lastError = `${target}: answer cut`;
        break;
      }
      const headers = { ...upstream.headers };
      delete headers['transfer-encoding'];
      delete headers.connection;
      delete headers['keep-alive'];
      res.writeHead(upstream.statusCode ?? 502, { ...headers, 'content-length': String(Buffer.concat(parts).length) });
      res.end(Buffer.concat(parts));
      return;
    }
    stats.badGateway += 1;
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`bad gateway: ${lastError}`);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      stats.badGateway += 1;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`bad gateway: ${err.message}`);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      agent.destroy();
    },
  };
}
