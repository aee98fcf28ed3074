import type { DeliveryResult } from '../callback';
import { ControlError } from '../control-error';
import type { EmulatorCore } from '../core';
import type { FaultSettings } from '../faults';
import type { AuthEventRecord } from './auth-events';
import type { AuthorizeOptions, Component } from './component';
import { runReleaseTest, type ReleaseReport } from './release-test';
import { RELEASE_TEST_ACCOUNTS } from './test-accounts';

export interface AuthorizerView {
  appId: string;
  /** The merchant's original id (gh_…). */
  account: string;
  authorized: boolean;
  /** ISO time (virtual clock) of the authorisation. */
  authTime: string;
  /** The current refresh token, '' before the first api_query_auth. */
  refreshToken: string;
  permissionSets: number[];
}

export interface ComponentView {
  appId: string;
  authEventUrl?: string;
  messageUrl?: string;
  /** The newest usable component_verify_ticket. */
  ticket?: string;
  ticketPushesFail: boolean;
  authorizers: AuthorizerView[];
}

export interface AuthorizeResult {
  infoType: 'authorized' | 'updateauthorized';
  authCode: string;
  expiresIn: number;
  redirectUrl?: string;
  /** How the event push to the authorisation-event URL went. */
  push: DeliveryResult;
}

const httpUrl = (url: string | undefined, what: string) => {
  if (url !== undefined && !/^https?:\/\//.test(url)) throw new ControlError(400, `the ${what} must start with http:// or https://`);
};

/** Steers the third-party platform: its URLs, tickets, merchants' consent and revocation, the release check. */
export class ComponentControl {
  constructor(
    private readonly core: EmulatorCore,
    private readonly c: Component,
  ) {}

  status(): ComponentView {
    const authorizers = this.c.merchantAppIds().flatMap((appId) => {
      const a = this.c.authorization(appId);
      const merchant = this.c.merchant(appId);
      if (!a || !merchant) return [];
      const view: AuthorizerView = {
        appId,
        account: merchant.opts.account,
        authorized: a.authorized,
        authTime: new Date(a.authTime * 1000).toISOString(),
        refreshToken: a.refreshTokens.current(),
        permissionSets: [...a.permissionSets],
      };
      return [view];
    });
    const { appId } = this.c;
    return { appId, authEventUrl: this.c.authEventUrl, messageUrl: this.c.messageUrl, ticket: this.c.tickets.current(), ticketPushesFail: this.c.ticketPushesFail, authorizers };
  }

  ticket(): string | undefined {
    return this.c.tickets.current();
  }

  /** Pushes a new ticket now (as the 10-minute schedule does). */
  pushTicket(): Promise<DeliveryResult> {
    return this.core.track(this.c.pushTicket());
  }

  /** While true, ticket pushes are not sent (WeChat cannot reach the URL): the receiver gets no ticket. */
  setTicketPushesFail(fail: boolean): void {
    this.c.ticketPushesFail = fail;
  }

  /** Every push to the authorisation-event URL (decrypted fields) and its answer, oldest first. */
  authEvents(): AuthEventRecord[] {
    return this.c.events.records();
  }

  /** Setting a URL pushes a ticket at once and every 10 minutes (virtual clock) from then. */
  setAuthEventUrl(url: string | undefined): void {
    httpUrl(url, 'authorisation-event URL');
    this.c.setAuthEventUrl(url);
  }

  /** The merchants' message URL; `$APPID$` in it is replaced by each merchant's appid. */
  setMessageUrl(url: string | undefined): void {
    httpUrl(url, 'message URL');
    this.c.messageUrl = url;
  }

  /** A merchant consents, as on the authorisation page; resolves once the event push is answered (or failed). */
  async authorize(appId: string, o: AuthorizeOptions = {}): Promise<AuthorizeResult> {
    const merchant = this.c.merchant(appId);
    if (!merchant) throw new ControlError(404, `no merchant ${appId}`);
    if (o.preAuthCode !== undefined && !this.c.preAuthCodes.peek(o.preAuthCode)) throw new ControlError(400, 'pre_auth_code is unknown, used up or expired');
    httpUrl(o.redirectUri, 'redirect_uri');
    const { push, ...rest } = this.c.authorize(merchant, o);
    return { ...rest, push: await push };
  }

  /** The merchant revokes the authorisation; resolves once the `unauthorized` push is answered (or failed). */
  async unauthorize(appId: string): Promise<DeliveryResult> {
    const merchant = this.c.merchant(appId);
    if (!merchant) throw new ControlError(404, `no merchant ${appId}`);
    if (!this.c.isAuthorized(appId)) throw new ControlError(409, `${appId} has not authorised the component`);
    return this.c.unauthorize(merchant);
  }

  /** WeChat's full-network release check against the configured URLs (takes up to about 15 s when the receiver is slow). */
  async releaseTest(o: { appId?: string } = {}): Promise<ReleaseReport> {
    if (o.appId !== undefined && !RELEASE_TEST_ACCOUNTS.some((t) => t.appId === o.appId)) {
      throw new ControlError(400, `${o.appId} is not one of WeChat's release-test accounts (${RELEASE_TEST_ACCOUNTS.map((t) => t.appId).join(', ')})`);
    }
    return this.core.track(runReleaseTest(this.core, this.c, o.appId));
  }

  /** Faults of the component API paths (/cgi-bin/component/…). */
  setFaults(f: FaultSettings): FaultSettings {
    return this.c.faults.set(f);
  }

  /** Every component_access_token invalid (40001); api_component_token hands out a new one. */
  invalidateTokens(): void {
    this.c.tokens.invalidate();
  }

  stats(): { calls: Record<string, number>; authEvents: { attempts: number; delivered: number; failed: number } } {
    return { calls: Object.fromEntries(this.c.calls), authEvents: { ...this.c.events.counters } };
  }
}
