import { WechatCipher } from '../wechat/cipher';
import { buildXml } from '../wechat/xml';
import { accountPush, newCounters, type DeliveryOptions, type DeliveryResult, type PushFields, type PushTarget } from './callback';
import type { EmulatorCore } from './core';
import { Faults } from './faults';
import { IdSource } from './ids';
import type { ResolvedAccount } from './options';
import { EmulatorState } from './state';
import { TokenBook } from './tokens';

/**
 * One Official Account: its users, templates, quota, tokens, faults, call counters and where its
 * pushes go. Each account counts its own msgids from the same start, so two accounts may hand out
 * the same msgid, as on WeChat.
 */
export class Account {
  readonly state = new EmulatorState();
  readonly ids = new IdSource();
  readonly faults = new Faults();
  readonly calls = new Map<string, number>();
  readonly counters = newCounters();
  readonly cipher?: WechatCipher;
  tokens: TokenBook;
  /** The account's own push URL (a merchant's pushes go to the component while it is authorised). */
  callbackUrl: string | undefined;

  constructor(
    readonly core: EmulatorCore,
    readonly opts: ResolvedAccount,
  ) {
    this.cipher = opts.aesKey ? new WechatCipher(opts.aesKey, opts.appId) : undefined;
    this.tokens = this.newTokenBook();
    this.callbackUrl = opts.callbackUrl;
  }

  get appId(): string {
    return this.opts.appId;
  }

  get clock() {
    return this.core.clock;
  }

  count(path: string): void {
    this.calls.set(path, (this.calls.get(path) ?? 0) + 1);
  }

  /** Where a push would go now, or undefined when nobody receives the account's pushes. */
  pushTarget(): PushTarget | undefined {
    const component = this.core.component;
    if (component?.isAuthorized(this.appId)) return component.messageTarget(this);
    if (!this.callbackUrl) return undefined;
    return { url: this.callbackUrl, token: this.opts.token, mode: this.opts.mode, account: this.opts.account, cipher: this.cipher };
  }

  /** Pushes one packet (with WeChat's re-sends); tracked so whenIdle() can wait for it. */
  push(fields: PushFields, openid: string, target = this.pushTarget(), options?: Partial<DeliveryOptions>): Promise<DeliveryResult> {
    if (!target) {
      this.counters.failed++;
      return Promise.resolve({ ok: false, error: 'no callback URL configured', attempts: 0 });
    }
    return this.core.track(this.core.callback.deliver(accountPush(target, buildXml(fields), openid), this.counters, options));
  }

  /** Back to the start (the push URL stays as set). */
  reset(): void {
    this.state.clear();
    this.tokens = this.newTokenBook();
    this.faults.set({});
    this.calls.clear();
  }

  private newTokenBook(): TokenBook {
    return new TokenBook(this.core.clock, this.ids, this.core.opts.tokenExpiresIn);
  }
}
