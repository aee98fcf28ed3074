import { WechatCipher } from '../../wechat/cipher';
import type { Account } from '../account';
import type { DeliveryOptions, DeliveryResult, PushTarget } from '../callback';
import type { EmulatorCore } from '../core';
import { Faults } from '../faults';
import { IdSource } from '../ids';
import type { ComponentOptions } from '../options';
import { TokenBook } from '../tokens';
import { AuthEvents } from './auth-events';
import { CodeBook, opaqueCode } from './codes';
import { RefreshTokens } from './refresh-tokens';
import { TicketSchedule } from './ticket-schedule';
import { TicketBook } from './tickets';

/** A merchant's grant to the component. Kept after a revocation (authorized false) so a re-authorisation is a new one. */
export interface Authorization {
  authorized: boolean;
  /** Unix seconds (virtual clock) of the authorisation. */
  authTime: number;
  permissionSets: number[];
  readonly refreshTokens: RefreshTokens;
}

export interface AuthorizeOptions {
  /** The merchant's session: a code from api_create_preauthcode (default: one nobody asked for). */
  preAuthCode?: string;
  /** Where the merchant's browser goes next (default: the redirect_uri the login page was opened with). */
  redirectUri?: string;
  /** The permission sets granted (default: the merchant's configured ones, or what it granted before). */
  permissionSets?: number[];
}

export interface Authorized {
  infoType: 'authorized' | 'updateauthorized';
  authCode: string;
  expiresIn: number;
  /** `redirect_uri?auth_code=…&expires_in=600`, when a redirect_uri is known. */
  redirectUrl?: string;
  /** The push of the event to the authorisation-event URL. */
  push: Promise<DeliveryResult>;
}

/** Pre-authorisation and authorisation codes live 10 minutes (the documented expires_in). */
const CODE_TTL_S = 600;

/**
 * The WeChat third-party platform: its tickets and tokens, the merchants' authorisations, and its
 * two URLs (authorisation events; the merchants' messages, with `$APPID$`). Every push it makes is
 * signed with its Token and sealed with its key, the component appid in the trailer.
 */
export class Component {
  readonly faults = new Faults();
  readonly calls = new Map<string, number>();
  readonly ids = new IdSource();
  readonly cipher: WechatCipher;
  readonly tickets: TicketBook;
  readonly preAuthCodes: CodeBook<{ redirectUri?: string }>;
  /** Authorisation code → the merchant's appid. */
  readonly authCodes: CodeBook<string>;
  readonly events: AuthEvents;
  tokens: TokenBook;
  authEventUrl: string | undefined;
  messageUrl: string | undefined;
  /** An injected fault: ticket pushes are not sent (as when WeChat cannot reach the URL). */
  ticketPushesFail = false;
  private readonly authorizations = new Map<string, Authorization>();
  private readonly schedule: TicketSchedule;

  constructor(
    private readonly core: EmulatorCore,
    readonly opts: ComponentOptions,
  ) {
    this.cipher = new WechatCipher(opts.aesKey, opts.appId);
    this.tickets = new TicketBook(core.clock);
    this.preAuthCodes = new CodeBook(core.clock, 'preauthcode', CODE_TTL_S);
    this.authCodes = new CodeBook(core.clock, 'queryauthcode', CODE_TTL_S);
    this.events = new AuthEvents(core, { appId: opts.appId, token: opts.token, cipher: this.cipher });
    this.tokens = this.newTokenBook();
    this.authEventUrl = opts.authEventUrl;
    this.messageUrl = opts.messageUrl;
    this.schedule = new TicketSchedule(core.clock, () => void this.core.track(this.pushTicket()));
  }

  get appId(): string {
    return this.opts.appId;
  }

  count(path: string): void {
    this.calls.set(path, (this.calls.get(path) ?? 0) + 1);
  }

  /** Starts the ticket pushes (one at once) when there is an authorisation-event URL. */
  start(): void {
    if (this.authEventUrl) this.schedule.start();
    else this.schedule.stop();
  }

  stop(): void {
    this.schedule.stop();
  }

  setAuthEventUrl(url: string | undefined): void {
    this.authEventUrl = url;
    this.start();
  }

  /** Back to the start: no tickets, tokens, codes or authorisations; the URLs stay as set. */
  reset(): void {
    this.tickets.clear();
    this.preAuthCodes.clear();
    this.authCodes.clear();
    this.events.clear();
    this.authorizations.clear();
    this.tokens = this.newTokenBook();
    this.faults.set({});
    this.calls.clear();
    this.ticketPushesFail = false;
    this.start();
  }

  /** Mints a ticket and pushes it; a ticket that is not delivered is withdrawn. */
  async pushTicket(delivery?: Partial<DeliveryOptions>): Promise<DeliveryResult> {
    const infoType = { InfoType: 'component_verify_ticket' };
    if (this.ticketPushesFail) return this.events.push(this.authEventUrl, infoType, { failure: 'ticket push failure injected' });
    if (!this.authEventUrl) return this.events.push(undefined, infoType);
    const ticket = this.tickets.mint();
    const result = await this.events.push(this.authEventUrl, { ...infoType, ComponentVerifyTicket: ticket }, { delivery });
    if (!result.ok) this.tickets.withdraw(ticket);
    return result;
  }

  pushTicketSoon(ms: number): void {
    this.core.later(ms, () => this.pushTicket());
  }

  /** A configured merchant, or an account added as one (the release-test accounts). */
  merchant(appId: string): Account | undefined {
    const account = this.core.accounts.get(appId);
    return account?.opts.kind === 'merchant' ? account : undefined;
  }

  merchantAppIds(): string[] {
    return [...this.core.accounts.values()].filter((a) => a.opts.kind === 'merchant').map((a) => a.appId);
  }

  authorization(appId: string): Authorization | undefined {
    return this.authorizations.get(appId);
  }

  isAuthorized(appId: string): boolean {
    return this.authorizations.get(appId)?.authorized === true;
  }

  grants(appId: string, permissionSet: number): boolean {
    const a = this.authorizations.get(appId);
    return a?.authorized === true && a.permissionSets.includes(permissionSet);
  }

  /** Current authorisations, oldest first (the order of api_get_authorizer_list). */
  authorized(): [string, Authorization][] {
    return [...this.authorizations].filter(([, a]) => a.authorized).sort(([x, a], [y, b]) => a.authTime - b.authTime || x.localeCompare(y));
  }

  /** An authorised merchant's pushes: to the message URL with `$APPID$` replaced, in component crypto. */
  messageTarget(merchant: Account): PushTarget | undefined {
    if (!this.messageUrl) return undefined;
    return { url: this.messageUrl.replaceAll('$APPID$', merchant.appId), token: this.opts.token, mode: 'safe', account: merchant.opts.account, cipher: this.cipher };
  }

  /**
   * The merchant consents: an authorisation code (for api_query_auth), and the `authorized`
   * event, or `updateauthorized` when it had authorised already, pushed to the authorisation-event URL.
   */
  authorize(merchant: Account, o: AuthorizeOptions = {}, delivery?: Partial<DeliveryOptions>): Authorized {
    const before = this.authorizations.get(merchant.appId);
    const update = before?.authorized === true;
    const auth: Authorization = update ? before : { authorized: true, authTime: this.core.clock.seconds(), permissionSets: merchant.opts.permissionSets, refreshTokens: new RefreshTokens(this.core.clock) };
    if (o.permissionSets) auth.permissionSets = [...o.permissionSets];
    this.authorizations.set(merchant.appId, auth);
    const authCode = this.authCodes.issue(merchant.appId);
    const push = this.events.push(this.authEventUrl, {
      InfoType: update ? 'updateauthorized' : 'authorized',
      AuthorizerAppid: merchant.appId,
      AuthorizationCode: authCode,
      AuthorizationCodeExpiredTime: this.core.clock.seconds() + CODE_TTL_S,
      PreAuthCode: o.preAuthCode ?? opaqueCode('preauthcode'),
    }, { delivery });
    const redirectUri = o.redirectUri ?? (o.preAuthCode ? this.preAuthCodes.peek(o.preAuthCode)?.redirectUri : undefined);
    return { infoType: update ? 'updateauthorized' : 'authorized', authCode, expiresIn: CODE_TTL_S, redirectUrl: redirectUri && withAuthCode(redirectUri, authCode), push };
  }

  /** The merchant revokes: its authorizer and refresh tokens stop working at once; `unauthorized` is pushed. */
  unauthorize(merchant: Account): Promise<DeliveryResult> {
    const auth = this.authorizations.get(merchant.appId);
    if (auth) {
      auth.authorized = false;
      auth.refreshTokens.revokeAll();
    }
    merchant.tokens.revoke('authorizer');
    return this.events.push(this.authEventUrl, { InfoType: 'unauthorized', AuthorizerAppid: merchant.appId });
  }

  private newTokenBook(): TokenBook {
    return new TokenBook(this.core.clock, this.ids, this.core.opts.tokenExpiresIn);
  }
}

/** The consent redirect: `redirect_uri` with `auth_code` and `expires_in` added to its query. */
function withAuthCode(redirectUri: string, authCode: string): string {
  const url = new URL(redirectUri);
  url.searchParams.set('auth_code', authCode);
  url.searchParams.set('expires_in', String(CODE_TTL_S));
  return url.toString();
}
