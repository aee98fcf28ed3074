import type { Logger } from '../../log/logger';
import type { KeyValueStore } from '../../store/store';
import { WechatApiClient } from '../api-client';
import { WechatCipher } from '../cipher';
import type { JsonHttp } from '../http-json';
import type { SharedToken } from '../shared-token';
import type { AccessTokens } from '../access-tokens';
import { authorizationEventKey, type AuthorizationEvent } from './authorization-events';
import { AuthorizerTokens } from './authorizer-tokens';
import { Authorizers, type Authorizer } from './authorizers';
import { BackgroundTasks } from './background';
import { ComponentApi } from './component-api';
import { componentToken } from './component-token';
import { Recovery, type RecoverySummary } from './recovery';
import { ReleaseTest } from './release-test';
import { VerifyTickets } from './verify-tickets';

export interface ComponentSettings {
  appId: string;
  appSecret: string;
  /** The component token: signs both push URLs. */
  token: string;
  /** The component EncodingAESKey: encrypts every push, of the platform and of every authoriser. */
  aesKey: string;
  /** wxreach's public base URL (https://host): authorisation links send the merchant back to it. */
  publicUrl: string | null;
}

export interface PlatformEvents {
  authorized(appid: string): void | Promise<void>;
  unauthorized(appid: string): void | Promise<void>;
}

/** An authoriser as others see it (no tokens). */
export interface AuthorizerView {
  appid: string;
  state: 'authorized' | 'revoked';
  userName?: string;
  funcs: number[];
  /** Epoch ms. */
  authorizedAt: number;
  /** Authorised, but no refresh token is known: the merchant must authorise again. */
  needsAuthorisation: boolean;
}

export interface PlatformHealth {
  /** CreateTime (epoch seconds) of the verify ticket kept, null when none; WeChat pushes one every 10 minutes. */
  ticketCreateTime: number | null;
  /** The last refusal of the component token endpoint (cleared by a success). */
  tokenError: { errcode: number; problem: string } | null;
}

/** A request the platform cannot act on as given (400 for `invalid_next`, a set-up problem for `public_url_missing`). */
export class PlatformRequestError extends Error {
  constructor(
    readonly code: 'invalid_next' | 'public_url_missing',
    message: string,
  ) {
    super(message);
    this.name = 'PlatformRequestError';
  }
}

export interface PlatformOptions {
  settings: ComponentSettings;
  http: JsonHttp;
  /** The deployment-wide store: ticket, component token, authoriser directory and tokens. */
  kv: KeyValueStore;
  log: Logger;
  events: PlatformEvents;
  now?: () => number;
  /** Every secret obtained at run time (tokens, tickets, refresh tokens) is reported here, with when it ends (epoch ms; Infinity: never), so the logger can redact it. */
  onToken?: (t: string, endsAt: number) => void;
  /** How long to wait for a verify ticket WeChat was asked to push. Default 60 s. */
  ticketWaitMs?: number;
  /** The authorisation page (WeChat's, or the emulator's in tests). */
  loginPageUrl?: string;
}

const LOGIN_PAGE = 'https://mp.weixin.qq.com/cgi-bin/componentloginpage';
/** Authorisation links ask for an Official Account (not a mini program). */
const AUTH_TYPE_OFFICIAL_ACCOUNT = '1';
const DEFAULT_TICKET_WAIT_MS = 60_000;
/** WeChat re-sends an unanswered push within seconds; a day covers it with room. */
const EVENT_DEDUPE_SECONDS = 86_400;

/** An http(s) URL, or a PlatformRequestError. */
export function checkedNext(next: unknown): URL {
  let url: URL | null;
  try {
    url = typeof next === 'string' ? new URL(next) : null;
  } catch {
    url = null;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new PlatformRequestError('invalid_next', '`next` must be an absolute http(s) URL: where the merchant\'s browser goes after authorising');
  }
  return url;
}

function view(a: Authorizer): AuthorizerView {
  return {
    appid: a.appid,
    state: a.state,
    ...(a.userName ? { userName: a.userName } : {}),
    funcs: a.funcs,
    authorizedAt: a.authorizedAt,
    needsAuthorisation: a.state === 'authorized' && a.refreshToken === '',
  };
}

/**
 * wxreach as a WeChat third-party platform: the verify ticket and component token, the directory
 * of authorised merchants and their tokens, authorisation links and events, recovery from
 * WeChat's authoriser list, and the release test. Everything is kept in the deployment store and
 * shared by every instance.
 */
export class Platform {
  readonly appId: string;
  /** Token + cipher (component key, trailer = component appid) for the pushes of every authoriser. */
  readonly pushCredentials: { token: string; cipher: WechatCipher };
  readonly releaseTest: ReleaseTest;
  private readonly now: () => number;
  private readonly secret: (value: string, endsAt: number) => void;
  private readonly tickets: VerifyTickets;
  private readonly componentToken: SharedToken;
  private readonly api: ComponentApi;
  private readonly directory: Authorizers;
  private readonly recovery: Recovery;
  private readonly tasks: BackgroundTasks;
  private readonly tokens = new Map<string, AuthorizerTokens>();

  constructor(private readonly o: PlatformOptions) {
    const { settings, http, kv, log } = o;
    this.appId = settings.appId;
    this.now = o.now ?? Date.now;
    this.secret = o.onToken ?? (() => undefined);
    this.pushCredentials = { token: settings.token, cipher: new WechatCipher(settings.aesKey, settings.appId) };
    this.tasks = new BackgroundTasks(log);
    const ticketWaitMs = o.ticketWaitMs ?? DEFAULT_TICKET_WAIT_MS;
    this.tickets = new VerifyTickets({ kv, requestPush: () => this.api.startPushTicket(), waitMs: ticketWaitMs, log, onSecret: this.secret });
    this.componentToken = componentToken({
      storage: kv,
      tickets: this.tickets,
      requestToken: (ticket) => this.api.requestToken(ticket),
      ticketWaitMs,
      onToken: this.secret,
      now: this.now,
    });
    this.api = new ComponentApi({ http, appId: settings.appId, appSecret: settings.appSecret, tokens: this.componentToken });
    this.directory = new Authorizers({ kv, api: this.api, log, now: this.now, onSecret: this.secret });
    this.recovery = new Recovery({
      api: this.api,
      authorizers: this.directory,
      onRestored: (appid) => this.emit('authorized', appid),
      onRevoked: (appid) => this.revoke(appid),
      log,
      now: this.now,
    });
    this.releaseTest = new ReleaseTest({
      exchange: (code) => this.exchange(code),
      sendText: (appid, openid, text) => new WechatApiClient(http, this.tokensFor(appid)).sendText(openid, text),
      tasks: this.tasks,
      log,
      now: this.now,
    });
  }

  /** Whether `appid` authorises the platform now (a second-old view serves: this is asked for every push). */
  async isAuthorized(appid: string): Promise<boolean> {
    return (await this.directory.recent(appid))?.state === 'authorized';
  }

  async authorizers(): Promise<AuthorizerView[]> {
    return (await this.directory.list()).map(view);
  }

  /**
   * One authoriser from the same second-old view as isAuthorized (null when never seen): its
   * userName is what the account's pushes carry as ToUserName.
   */
  async authorizer(appid: string): Promise<AuthorizerView | null> {
    const a = await this.directory.recent(appid);
    return a && view(a);
  }

  /** The authorizer_access_token of `appid` (one per appid for the life of the platform). */
  tokensFor(appid: string): AccessTokens {
    return this.tokenHolder(appid);
  }

  private tokenHolder(appid: string): AuthorizerTokens {
    let tokens = this.tokens.get(appid);
    if (!tokens) {
      tokens = new AuthorizerTokens({
        appid,
        storage: this.o.kv,
        authorizers: this.directory,
        api: this.api,
        recoverOne: (id) => this.recovery.recoverOne(id),
        onRevoked: (id) => this.revoke(id),
        onToken: this.secret,
        now: this.now,
      });
      this.tokens.set(appid, tokens);
    }
    return tokens;
  }

  /**
   * The link a merchant clicks to authorise the platform (WeChat's componentloginpage) with a
   * fresh pre_auth_code; after consent WeChat sends the browser to wxreach's callback, which
   * completes the authorisation and sends it on to `next`. WeChat only accepts the link when it is
   * clicked on a page of the platform's registered authorisation domain.
   */
  async authorizeUrl(next: string): Promise<string> {
    checkedNext(next);
    const base = this.o.settings.publicUrl?.replace(/\/+$/, '');
    if (!base) throw new PlatformRequestError('public_url_missing', 'publicUrl is not configured: authorisation links need the public https address of wxreach to come back to');
    const preAuth = await this.api.createPreAuthCode();
    const redirect = `${base}/wechat/component/callback?${new URLSearchParams({ next })}`;
    const query = new URLSearchParams({ component_appid: this.appId, pre_auth_code: preAuth.code, redirect_uri: redirect, auth_type: AUTH_TYPE_OFFICIAL_ACCOUNT });
    return `${this.o.loginPageUrl ?? LOGIN_PAGE}?${query}`;
  }

  /**
   * Completes an authorisation from the browser's redirect: the same as the `authorized` push
   * with the same code, whichever comes first. Returns the merchant's appid.
   */
  async completeAuthorization(code: string): Promise<string> {
    return this.authorizeCode(code);
  }

  /** Restores every authoriser from WeChat's list (see Recovery). */
  recover(): Promise<RecoverySummary> {
    return this.recovery.recoverAll();
  }

  /**
   * A verified push to the authorisation-event URL. The ticket is kept at once; other events are
   * de-duplicated (WeChat re-sends) and applied after this returns, so WeChat gets its `success`
   * without waiting for the exchange.
   */
  async receive(event: AuthorizationEvent): Promise<void> {
    if (event.kind === 'ticket') {
      await this.tickets.keep(event.ticket, event.createTime);
      return;
    }
    const key = `component:event:${authorizationEventKey(event)}`;
    if (!(await this.o.kv.firstSeen(key, EVENT_DEDUPE_SECONDS))) {
      this.o.log.info('authorisation event seen before', { appid: event.appid, kind: event.kind });
      return;
    }
    this.tasks.run(
      `authorisation event ${event.kind === 'other' ? event.infoType : event.kind}`,
      async () => {
        try {
          await this.apply(event);
        } catch (err) {
          await this.o.kv.forget(key); // a re-send of it may succeed
          throw err;
        }
      },
      { appid: event.appid },
    );
  }

  async health(): Promise<PlatformHealth> {
    const ticket = await this.tickets.latest();
    const err = this.componentToken.lastError;
    return {
      ticketCreateTime: ticket?.createTime ?? null,
      tokenError: err ? { errcode: err.errcode, problem: err.fix ?? err.errmsg } : null,
    };
  }

  /** Waits for work started after answering WeChat (event handling, release-test answers). */
  settled(): Promise<void> {
    return this.tasks.settled();
  }

  private async apply(event: Exclude<AuthorizationEvent, { kind: 'ticket' }>): Promise<void> {
    switch (event.kind) {
      case 'authorized':
      case 'updateauthorized':
        await this.authorizeCode(event.code, event.appid);
        return;
      case 'unauthorized':
        await this.revoke(event.appid);
        return;
      default:
        this.o.log.info('authorisation event not acted on', { infoType: event.infoType, appid: event.appid });
    }
  }

  private async authorizeCode(code: string, appid?: string): Promise<string> {
    const { authorizer, info } = await this.directory.authorize(code, appid);
    // The refresh token is stored by now; the access token that came with the code saves a refresh.
    if (info?.accessToken) await this.tokenHolder(authorizer.appid).offer(info.accessToken);
    if (info) await this.emit('authorized', authorizer.appid);
    return authorizer.appid;
  }

  /** The release test's repeated exchange: stored like any other, its access token kept. */
  private async exchange(code: string): Promise<void> {
    const { authorizer, info } = await this.directory.exchange(code);
    if (info.accessToken) await this.tokenHolder(authorizer.appid).offer(info.accessToken);
  }

  private async revoke(appid: string): Promise<void> {
    const wasAuthorized = await this.directory.revoke(appid);
    await this.tokenHolder(appid).discard();
    if (wasAuthorized) await this.emit('unauthorized', appid);
  }

  /** The events are the lead's business: their failure is logged, it never undoes the authorisation. */
  private async emit(kind: keyof PlatformEvents, appid: string): Promise<void> {
    try {
      await this.o.events[kind](appid);
    } catch (err) {
      this.o.log.error(`platform event ${kind} failed`, { appid, err });
    }
  }
}
