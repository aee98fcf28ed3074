import { Account } from './account';
import { CallbackClient } from './callback';
import { VirtualClock } from './clock';
import { Component } from './component/component';
import { IdSource } from './ids';
import type { ResolvedAccount, ResolvedOptions } from './options';

/**
 * The emulator's shared parts: options, virtual clock, the accounts (own ones and merchants), the
 * component, the push client, and the background work (receipt timers, pushes) that
 * close()/reset() must cancel.
 */
export class EmulatorCore {
  readonly clock = new VirtualClock();
  /** Request ids and nonces (random; msgids are counted per account). */
  readonly ids = new IdSource();
  readonly callback: CallbackClient;
  readonly accounts = new Map<string, Account>();
  readonly defaultAccount: Account;
  readonly component?: Component;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(readonly opts: ResolvedOptions) {
    this.callback = new CallbackClient({ timeoutMs: opts.callbackTimeoutMs, retries: opts.callbackRetries });
    for (const a of [...opts.accounts, ...opts.merchants]) this.addAccount(a);
    this.defaultAccount = this.accounts.get(opts.accounts[0].appId)!;
    this.component = opts.component && new Component(this, opts.component);
  }

  addAccount(o: ResolvedAccount): Account {
    const account = new Account(this, o);
    this.accounts.set(o.appId, account);
    return account;
  }

  /** The account that issued this access token (valid or expired), if any. */
  accountByToken(token: string): Account | undefined {
    for (const a of this.accounts.values()) if (a.tokens.knows(token)) return a;
    return undefined;
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
    this.component?.stop();
  }

  /** Back to the configured accounts (accounts added later, like release-test accounts, go), each at its start. */
  resetState(): void {
    this.cancelScheduled();
    const configured = new Set([...this.opts.accounts, ...this.opts.merchants].map((a) => a.appId));
    for (const [appId, account] of this.accounts) {
      if (configured.has(appId)) account.reset();
      else this.accounts.delete(appId);
    }
    this.clock.reset();
    this.component?.reset();
  }
}
