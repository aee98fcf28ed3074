import { Agent, request } from 'undici';
import { outboundPush } from './outbound-push';
import { isNoReply } from './replies';
import { parseXml } from './xml';

export interface ForwardTarget {
  url: string;
  /** The Token the downstream server checks signatures with (its own, not necessarily ours). */
  token: string;
  timeoutMs: number;
}

/**
 * Passes a push on to the business's own server (the account has only one server URL), signed
 * for it exactly as WeChat signs, in plaintext. Returns the downstream's passive reply XML, or
 * undefined when it has none (`success`, empty, an error, or no answer in time).
 */
export class PushForwarder {
  private readonly agent: Agent;

  constructor(
    private readonly target: ForwardTarget,
    private readonly onError: (reason: string) => void,
  ) {
    this.agent = new Agent({ keepAliveTimeout: 30_000, connections: 32, connect: { timeout: target.timeoutMs } });
  }

  async forward(plainXml: string, openid: string, now: number): Promise<string | undefined> {
    try {
      const push = outboundPush(this.target.url, plainXml, { token: this.target.token, timestamp: String(Math.floor(now / 1000)), openid });
      const res = await request(push.url, {
        method: 'POST',
        dispatcher: this.agent,
        headers: { 'content-type': 'text/xml' },
        body: push.body,
        // One deadline for the whole exchange: WeChat waits 5 s for our answer.
        signal: AbortSignal.timeout(this.target.timeoutMs),
      });
      const body = (await res.body.text()).trim();
      if (res.statusCode !== 200) return this.fail(`downstream answered HTTP ${res.statusCode}`);
      if (isNoReply(body)) return undefined;
      const reply = await parseXml(body);
      if (!reply.MsgType) return this.fail('downstream reply has no MsgType');
      return body;
    } catch (err) {
      return this.fail(`downstream unreachable or invalid: ${(err as Error).message}`);
    }
  }

  private fail(reason: string): undefined {
    this.onError(reason);
    return undefined;
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
