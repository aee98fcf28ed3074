import type { OwnAccount } from '../config/accounts';
import type { AccountStore } from '../store/store';
import type { WechatCipher } from '../wechat/cipher';
import type { AccessTokens } from '../wechat/access-tokens';
import type { AccountState } from './account-state';
import type { Delivery } from './delivery';


export type AccountKind = 'own' | 'authorizer';

/** How the pushes of an account are checked and opened. */
export interface PushCredentials {
  /** The Token signatures are made with (the platform's, for a merchant). */
  token: string;
  /** The AES key with the appid its messages end with (the platform's, for a merchant); null: plaintext only. */
  cipher: WechatCipher | null;
  /** With a cipher, also accept plaintext pushes (migration aid for an own account). */
  acceptPlaintext: boolean;
}

/** What the third-party platform knows of its merchants (implemented by the component platform). */
export interface AuthorizerDirectory {
  /** 'authorized', 'revoked', or null when the platform never had this appid. */
  authorizerState(appid: string): Promise<'authorized' | 'revoked' | null>;
  /** Appids of the merchants currently authorised. */
  authorizedAppids(): Promise<string[]>;
  tokensFor(appid: string): AccessTokens;
  readonly pushCredentials: { token: string; cipher: WechatCipher };
}

/** One Official Account at work: its part of the store, its token, its delivery, its push credentials. */
export interface Account {
  appid: string;
  kind: AccountKind;
  store: AccountStore;
  tokens: AccessTokens;
  delivery: Delivery;
  push: PushCredentials;
}

export interface AccountsOptions {
  own: readonly OwnAccount[];
  /** The platform's merchants (third-party platform mode), or null. */
  directory: AuthorizerDirectory | null;
  /** Builds the account's runtime (token source, API client, delivery); called once per appid. */
  build(appid: string, kind: AccountKind): Account;
}

/**
 * Every account this deployment serves: its own (from the config, fixed) and the platform's
 * merchants (authorised and revoked at any time, known through the store). A runtime is built the
 * first time an appid is needed and kept: a revoked merchant's runtime still ends its notices.
 */
export class Accounts {
  private readonly runtimes = new Map<string, Account>();
  private readonly own: ReadonlyMap<string, OwnAccount>;

  constructor(private readonly o: AccountsOptions) {
    this.own = new Map(o.own.map((a) => [a.appId, a]));
  }

  ownAccount(appid: string): OwnAccount | undefined {
    return this.own.get(appid);
  }

  /** The account `/wechat` (no appid in the path) serves: the only own account, when there is exactly one. */
  single(): Account | null {
    const [first, ...more] = this.own.keys();
    return first !== undefined && more.length === 0 ? this.runtime(first) : null;
  }

  async state(appid: string): Promise<AccountState> {
    if (this.own.has(appid)) return 'active';
    const state = this.o.directory ? await this.o.directory.authorizerState(appid) : null;
    return state === 'authorized' ? 'active' : state === 'revoked' ? 'unauthorized' : 'unknown';
  }

  /** The runtime of `appid` whatever its state (the work loop ends a revoked account's notices with it). */
  runtime(appid: string): Account {
    let account = this.runtimes.get(appid);
    if (!account) {
      account = this.o.build(appid, this.own.has(appid) ? 'own' : 'authorizer');
      this.runtimes.set(appid, account);
    }
    return account;
  }

  /** The runtime of an account that may act now (pushes, new notices), or null. */
  async active(appid: string): Promise<Account | null> {
    return (await this.state(appid)) === 'active' ? this.runtime(appid) : null;
  }

  /** Every account that may act now: own ones first, then the authorised merchants. */
  async activeAppids(): Promise<string[]> {
    const merchants = this.o.directory ? await this.o.directory.authorizedAppids() : [];
    return [...this.own.keys(), ...merchants.filter((a) => !this.own.has(a))];
  }
}
