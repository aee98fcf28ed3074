import { Agent, request } from 'undici';
import type { AddressGuard } from './address-guard';
import type { Endpoint } from './endpoints';
import { ATTEMPT_TIMEOUT_MS } from './retry-schedule';
import { signedHeaders } from './signature';

/** What one attempt got: the HTTP status when the endpoint answered, else why not. */
export interface AttemptResult {
  status?: number;
  error?: string;
  ms: number;
}

/** Connections kept per endpoint (an instance also attempts at most this many deliveries of one endpoint at once). */
export const CONNECTIONS_PER_ENDPOINT = 8;
/** Of an answer's body, this much is read (then the connection is dropped). */
const ANSWER_BYTES_READ = 4096;

/**
 * Posts signed webhook bodies. Each endpoint has connections of its own (one undici Agent each), so
 * a slow endpoint fills only its own; every connection goes through the address guard.
 */
export class WebhookSender {
  private readonly agents = new Map<string, Agent>();

  constructor(
    private readonly guard: AddressGuard,
    private readonly userAgent: string,
    /** The wall clock: `webhook-timestamp` is checked against the receiver's. */
    private readonly wallClock: () => number = Date.now,
  ) {}

  private agentFor(endpoint: string): Agent {
    let agent = this.agents.get(endpoint);
    if (!agent) {
      agent = new Agent({
        connections: CONNECTIONS_PER_ENDPOINT,
        keepAliveTimeout: 30_000,
        headersTimeout: ATTEMPT_TIMEOUT_MS,
        bodyTimeout: ATTEMPT_TIMEOUT_MS,
        connect: { timeout: ATTEMPT_TIMEOUT_MS, lookup: this.guard.lookup },
      });
      this.agents.set(endpoint, agent);
    }
    return agent;
  }

  /** One attempt: `id` is the webhook-id (the same on every attempt of the event); `cancel` ends it early. */
  async send(endpoint: Endpoint, id: string, body: string, cancel?: AbortSignal): Promise<AttemptResult> {
    const started = this.wallClock();
    const ms = () => this.wallClock() - started;
    try {
      this.guard.parse(endpoint.url);
      const res = await request(endpoint.url, {
        method: 'POST',
        dispatcher: this.agentFor(endpoint.id),
        headers: {
          'content-type': 'application/json',
          'user-agent': this.userAgent,
          ...signedHeaders(endpoint.secret, id, Math.floor(started / 1000), body),
        },
        body,
        // one deadline for the whole attempt, connecting included
        signal: cancel ? AbortSignal.any([AbortSignal.timeout(ATTEMPT_TIMEOUT_MS), cancel]) : AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
      });
      // a little of the answer is read, so a keep-alive connection can be reused; the rest is dropped
      let read = 0;
      for await (const chunk of res.body) {
        read += (chunk as Buffer).length;
        if (read >= ANSWER_BYTES_READ) {
          res.body.destroy();
          break;
        }
      }
      return res.statusCode >= 200 && res.statusCode < 300 ? { status: res.statusCode, ms: ms() } : { status: res.statusCode, error: `HTTP ${res.statusCode}`, ms: ms() };
    } catch (err) {
      return { error: describe(err), ms: ms() };
    }
  }

  /** Forgets an endpoint's connections (it was deleted). */
  async forget(endpoint: string): Promise<void> {
    const agent = this.agents.get(endpoint);
    this.agents.delete(endpoint);
    await agent?.close();
  }

  async close(): Promise<void> {
    await Promise.all([...this.agents.values()].map((agent) => agent.destroy()));
    this.agents.clear();
  }
}

/** Why an attempt got no answer, without the URL (it may carry a token of the business). */
function describe(err: unknown): string {
  const e = err as (Error & { code?: string; cause?: Error & { code?: string } }) | undefined;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${ATTEMPT_TIMEOUT_MS / 1000} s`;
  const cause = e?.cause;
  const code = e?.code ?? cause?.code;
  const message = cause?.message ?? e?.message ?? String(err);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}
