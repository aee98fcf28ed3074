import { WechatCipher } from '../wechat/cipher';
import { CallbackClient, type DeliveryResult, type PushFields } from './callback';
import { VirtualClock } from './clock';
import { Faults } from './faults';
import { IdSource } from './ids';
import type { ResolvedOptions } from './options';
import { EmulatorState } from './state';
import { TokenBook } from './tokens';

/**
 * The emulator's shared parts: options, virtual clock, state, tokens, the callback client, faults,
 * counters, and the background work (receipt timers) that close()/reset() must cancel.
 */
export class EmulatorCore {
  readonly clock = new VirtualClock();
  readonly ids = new IdSource();
  readonly state = new EmulatorState();
  readonly faults = new Faults();
  readonly calls = new Map<string, number>();
  readonly cipher?: WechatCipher;
  readonly callback: CallbackClient;
  tokens: TokenBook;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(readonly opts: ResolvedOptions) {
    this.cipher = opts.aesKey ? new WechatCipher(opts.aesKey, opts.appId) : undefined;
    this.tokens = new TokenBook(this.clock, this.ids, opts.tokenExpiresIn);
    this.callback = new CallbackClient(opts.callbackUrl, {
      token: opts.token,
      mode: opts.mode,
      account: opts.account,
      cipher: this.cipher,
      timeoutMs: opts.callbackTimeoutMs,
      retries: opts.callbackRetries,
    });
  }

  count(path: string): void {
    this.calls.set(path, (this.calls.get(path) ?? 0) + 1);
  }

  /** Pushes one packet to the callback (with WeChat's re-sends); tracked so whenIdle() can wait for it. */
  push(fields: PushFields, openid: string): Promise<DeliveryResult> {
    return this.track(this.callback.deliver(fields, openid));
  }

  /** Runs `fn` after `ms` unless close()/reset() comes first. */
  later(ms: number, fn: () => Promise<unknown>): void {
    let done!: () => void;
    const settled = new Promise<void>((resolve) => (done = resolve));
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn().catch(() => undefined).finally(done);
    }, ms);
    this.timers.add(timer);
    this.track(settled);
  }

  track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    const forget = () => this.inFlight.delete(p);
    p.then(forget, forget);
    return p;
  }

  /** Resolves when no receipt or push is scheduled or in flight. */
  async whenIdle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  cancelScheduled(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.inFlight.clear();
  }

  resetState(): void {
    this.cancelScheduled();
    this.state.clear();
    this.tokens = new TokenBook(this.clock, this.ids, this.opts.tokenExpiresIn);
    this.faults.set({});
    this.calls.clear();
    this.clock.reset();
  }
}
