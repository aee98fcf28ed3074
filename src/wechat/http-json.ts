import { parse } from 'lossless-json';
import { Agent, errors, request } from 'undici';
import { WechatTransportError } from './api-errors';
import type { CircuitBreaker } from './circuit-breaker';

export type JsonObject = Record<string, unknown>;

/** Reports each call: its path, how it ended, and how long it took. */
export type CallObserver = (path: string, outcome: 'ok' | 'errcode' | 'transport', seconds: number, errcode?: number) => void;

/** Errors raised before the request reached the server: repeating the request cannot double it. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * JSON over HTTP with keep-alive and a bound on connections (requests beyond it queue inside
 * undici). Numbers are kept as their exact decimal text: a msgid like 3147483654123456789 is
 * above 2^53 and JSON.parse would change it.
 */
export class JsonHttp {
  private readonly agent: Agent;

  constructor(
    private readonly base: string,
    private readonly timeoutMs: number,
    maxInFlight: number,
    private readonly observe: CallObserver = () => undefined,
    /** Stops calling while WeChat as a whole does not answer (none: always call). */
    private readonly breaker?: CircuitBreaker,
  ) {
    this.agent = new Agent({ connections: maxInFlight, keepAliveTimeout: 30_000, connect: { timeout: Math.min(timeoutMs, 5000) } });
  }

  async call(method: 'GET' | 'POST', pathWithQuery: string, body?: unknown): Promise<JsonObject> {
    const path = pathWithQuery.split('?')[0];
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    this.breaker?.admit(path);
    try {
      const answer = await this.exchange(method, path, pathWithQuery, body);
      this.breaker?.succeeded();
      const errcode = Number(answer.errcode ?? 0);
      this.observe(path, errcode === 0 ? 'ok' : 'errcode', seconds(), errcode === 0 ? undefined : errcode);
      return answer;
    } catch (err) {
      this.breaker?.failed();
      this.observe(path, 'transport', seconds());
      throw err;
    }
  }

  private async exchange(method: 'GET' | 'POST', path: string, pathWithQuery: string, body?: unknown): Promise<JsonObject> {
    let res;
    try {
      res = await request(this.base + pathWithQuery, {
        method,
        dispatcher: this.agent,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? '';
      const sent = NOT_SENT.has(code) || NOT_SENT.has(cause) ? 'no' : 'maybe';
      const reason = err instanceof errors.HeadersTimeoutError || err instanceof errors.BodyTimeoutError ? 'timeout' : code || cause || 'network error';
      throw new WechatTransportError(path, sent, reason);
    }
    let text: string;
    try {
      text = await res.body.text();
    } catch {
      throw new WechatTransportError(path, 'maybe', 'connection lost while reading the answer');
    }
    // A 5xx comes from WeChat's gateway before the API acted (an assumption: docs/wechat-protocol-notes.md "HTTP 5xx answers").
    if (res.statusCode >= 500) throw new WechatTransportError(path, 'no', `HTTP ${res.statusCode}`);
    let parsed: unknown;
    try {
      parsed = parse(text, undefined, (n) => n);
    } catch {
      throw new WechatTransportError(path, 'maybe', `HTTP ${res.statusCode} with a body that is not JSON`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new WechatTransportError(path, 'maybe', 'answer is not a JSON object');
    }
    return parsed as JsonObject;
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
