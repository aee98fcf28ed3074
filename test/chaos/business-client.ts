import type { FinalView } from './check';
import { sleep } from './run';

const ATTEMPTS = 60;
const TIMEOUT_MS = 8000;

/**
 * The business system calling wxreach through the load balancer: each call is repeated until it
 * gets an answer below 500 (an instance may be down or die mid-request), POSTs with an
 * Idempotency-Key so a repeat cannot enqueue twice.
 */
export class BusinessClient {
  /** Calls repeated after a 5xx or a network error. */
  retries = 0;

  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
  ) {}

  async call(method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
    for (let attempt = 1; ; attempt++) {
      // A timer of our own (cleared), not AbortSignal.timeout: that one keeps jest alive after the run.
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
      try {
        const res = await fetch(`${this.baseUrl}${path}`, {
          method,
          headers: { authorization: `Bearer ${this.apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
          body: body ? JSON.stringify(body) : undefined,
          signal: abort.signal,
        });
        const text = await res.text();
        if (res.status < 500) return { status: res.status, body: JSON.parse(text) as Record<string, unknown> };
        if (attempt >= ATTEMPTS) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
      } catch (err) {
        if (attempt >= ATTEMPTS) throw err;
      } finally {
        clearTimeout(timer);
      }
      this.retries += 1;
      await sleep(Math.min(50 * attempt, 500));
    }
  }

  /** POST /v1/notifications; resolves with the id of the accepted (202) notice. */
  async enqueue(body: Record<string, unknown>, idempotencyKey: string): Promise<string> {
    const res = await this.call('POST', '/v1/notifications', body, { 'idempotency-key': idempotencyKey });
    if (res.status !== 202) throw new Error(`POST ${idempotencyKey}: ${res.status} ${JSON.stringify(res.body)}`);
    return String(res.body.id);
  }

  async view(id: string): Promise<FinalView> {
    const res = await this.call('GET', `/v1/notifications/${id}`);
    if (res.status !== 200) throw new Error(`GET ${id}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as unknown as FinalView;
  }
}
