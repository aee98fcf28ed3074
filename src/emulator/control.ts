import type { Account } from './account';
import { ComponentControl } from './component/control';
import { ControlError } from './control-error';
import { closeAllowances, openEventAllowance, openMessageAllowance } from './cs-window';
import type { EmulatorCore } from './core';
import type { FaultSettings } from './faults';
import { event, pushInteraction, textMessage } from './interactions';
import type { PassiveReplyResult } from './passive-reply';
import type { AccountKind, SeedData, SeedTemplate, SeedUser } from './options';
import type { EmulatedUser, InboxEntry, ReceiptOutcomeSetting } from './state';
import { addTemplate } from './templates';

export { ControlError };

export interface UserView {
  openid: string;
  subscribed: boolean;
  messageAllowance?: { expiresAt: string; left: number };
  eventAllowance?: { expiresAt: string; left: number };
  refused: string[];
}

export interface AccountView {
  appId: string;
  /** The original id (gh_…), ToUserName of its pushes. */
  account: string;
  kind: AccountKind;
  /** Where its pushes go now (a merchant's: the component's message URL while authorised). */
  pushUrl?: string;
}

export interface EmulatorStats {
  /** Calls per request path, control routes included. */
  calls: Record<string, number>;
  /** Pushes to the callback: each attempt, and the pushes that got (or never got) a 2xx. */
  callbacks: { attempts: number; delivered: number; failed: number };
  templateQuotaUsedToday: number;
}

/**
 * Everything a test or a person can do to stage a scenario, for one account (`account(appid)`
 * gives another's; the clock, reset() and whenIdle() are the whole emulator's). The `/_emulator`
 * HTTP routes call these same methods, so both ways behave identically.
 */
export class EmulatorControl {
  constructor(
    private readonly core: EmulatorCore,
    private readonly acct: Account = core.defaultAccount,
  ) {}

  /** The appid of the account this control acts on. */
  get appId(): string {
    return this.acct.appId;
  }

  /** The control of another account (own or merchant). */
  account(appId: string): EmulatorControl {
    const acct = this.core.accounts.get(appId);
    if (!acct) throw new ControlError(404, `no account ${appId}`);
    return new EmulatorControl(this.core, acct);
  }

  /** Every account: the default one first, then the other own accounts, then the merchants. */
  accounts(): AccountView[] {
    return [...this.core.accounts.values()].map((a) => ({ appId: a.appId, account: a.opts.account, kind: a.opts.kind, pushUrl: a.pushTarget()?.url }));
  }

  /** The third-party platform's control (404 when none is configured). */
  get component(): ComponentControl {
    if (!this.core.component) throw new ControlError(404, 'no component configured');
    return new ComponentControl(this.core, this.core.component);
  }

  addUser(u: SeedUser): UserView {
    const existing = this.acct.state.users.get(u.openid);
    const user = existing ?? this.acct.state.newUser(u.openid, u.subscribed ?? true);
    if (existing && u.subscribed !== undefined) user.subscribed = u.subscribed;
    return this.view(user);
  }

  user(openid: string): UserView {
    return this.view(this.mustUser(openid));
  }

  /** A (re-)follow: opens the 3 / 1-minute window and pushes `subscribe`; an unknown openid becomes a new follower. */
  subscribe(openid: string): Promise<PassiveReplyResult> {
    const user = this.acct.state.users.get(openid) ?? this.acct.state.newUser(openid, true);
    user.subscribed = true;
    openEventAllowance(user, this.acct.clock.now());
    return pushInteraction(this.acct, user, event('subscribe', { EventKey: '' }));
  }

  /** Unfollow: closes both windows (45015 afterwards), template sends get 43004; pushes `unsubscribe`. */
  async unsubscribe(openid: string): Promise<PassiveReplyResult> {
    const user = this.mustUser(openid);
    user.subscribed = false;
    closeAllowances(user);
    return pushInteraction(this.acct, user, event('unsubscribe', { EventKey: '' }));
  }

  addTemplate(t: SeedTemplate): string {
    if (!t.title || typeof t.content !== 'string') throw new ControlError(400, 'a template needs a title and a content');
    return addTemplate(this.acct, t);
  }

  deleteTemplate(templateId: string): void {
    if (!this.acct.state.templates.delete(templateId)) throw new ControlError(404, `no template ${templateId}`);
  }

  /** Per user, or per user + template (which wins over the per-user setting). */
  setReceiptOutcome(o: { openid: string; template_id?: string; outcome: ReceiptOutcomeSetting }): void {
    const user = this.mustUser(o.openid);
    if (o.template_id) user.outcomeByTemplate.set(o.template_id, o.outcome);
    else user.outcome = o.outcome;
  }

  /** The user refuses one template (43101 from then on); `refused=false` re-enables it. */
  refuseTemplate(openid: string, templateId: string, refused = true): void {
    const user = this.mustUser(openid);
    if (refused) user.refused.add(templateId);
    else user.refused.delete(templateId);
  }

  userSendsText(openid: string, text: string): Promise<PassiveReplyResult> {
    const user = this.mustFollower(openid);
    openMessageAllowance(user, this.acct.clock.now());
    return pushInteraction(this.acct, user, textMessage(this.acct, text));
  }

  userClicksMenu(openid: string, key: string): Promise<PassiveReplyResult> {
    const user = this.mustFollower(openid);
    openEventAllowance(user, this.acct.clock.now());
    return pushInteraction(this.acct, user, event('CLICK', { EventKey: key }));
  }

  /** A parametric QR code: SCAN for a follower, subscribe with `qrscene_` for anyone else. */
  userScans(openid: string, scene: string): Promise<PassiveReplyResult> {
    const user = this.acct.state.users.get(openid) ?? this.acct.state.newUser(openid, false);
    const wasFollower = user.subscribed;
    user.subscribed = true;
    openEventAllowance(user, this.acct.clock.now());
    const Ticket = `gQ${this.acct.ids.nonce()}`;
    const fields = wasFollower ? event('SCAN', { EventKey: scene, Ticket }) : event('subscribe', { EventKey: `qrscene_${scene}`, Ticket });
    return pushInteraction(this.acct, user, fields);
  }

  inbox(openid: string): InboxEntry[] {
    return [...this.mustUser(openid).inbox];
  }

  setFaults(f: FaultSettings): FaultSettings {
    return this.acct.faults.set(f);
  }

  /** Every issued token becomes invalid (40001); the fetch endpoints hand out the new ones. */
  rotateToken(): { classic: string; stable: string } {
    return this.acct.tokens.rotate();
  }

  invalidateTokens(): void {
    this.acct.tokens.invalidate();
  }

  advanceClock(seconds: number): { now: string } {
    if (!Number.isFinite(seconds) || seconds < 0) throw new ControlError(400, 'seconds must be a number ≥ 0');
    this.core.clock.advance(seconds);
    return { now: this.core.clock.iso() };
  }

  now(): string {
    return this.core.clock.iso();
  }

  /**
   * The whole emulator back to the start: every configured account holds its seed only, no
   * tokens, no faults, counters and clock at zero; the component has no tickets, codes or
   * authorisations (and pushes a ticket at once if it has an authorisation-event URL). URLs stay as set.
   */
  reset(): void {
    this.core.resetState();
    seedAll(this);
  }

  stats(): EmulatorStats {
    return {
      calls: Object.fromEntries(this.acct.calls),
      callbacks: { ...this.acct.counters },
      templateQuotaUsedToday: this.acct.state.quotaDay === this.core.clock.chinaDay() ? this.acct.state.quotaUsed : 0,
    };
  }

  /** The account's own push URL (a merchant's pushes go to the component while it is authorised). */
  setCallbackUrl(url: string | undefined): void {
    if (url !== undefined && !/^https?:\/\//.test(url)) throw new ControlError(400, 'the callback URL must start with http:// or https://');
    this.acct.callbackUrl = url;
  }

  /** Resolves once no receipt or push is scheduled or in flight (handy in tests). */
  whenIdle(): Promise<void> {
    return this.core.whenIdle();
  }

  /** The account's seed from the options, used at start and by reset(). */
  get seedData(): SeedData | undefined {
    return this.acct.opts.seed;
  }

  private mustUser(openid: string): EmulatedUser {
    const user = this.acct.state.users.get(openid);
    if (!user) throw new ControlError(404, `no user ${openid}`);
    return user;
  }

  private mustFollower(openid: string): EmulatedUser {
    const user = this.mustUser(openid);
    if (!user.subscribed) throw new ControlError(409, `${openid} does not follow the account, so cannot message it`);
    return user;
  }

  private view(u: EmulatedUser): UserView {
    const iso = (a?: { expiresAt: number; left: number }) => a && { expiresAt: new Date(a.expiresAt).toISOString(), left: a.left };
    return { openid: u.openid, subscribed: u.subscribed, messageAllowance: iso(u.messageAllowance), eventAllowance: iso(u.eventAllowance), refused: [...u.refused] };
  }
}

/** Applies every account's seed from the options through the control methods. */
export function seedAll(control: EmulatorControl): void {
  for (const { appId } of control.accounts()) {
    const c = control.account(appId);
    const s = c.seedData;
    for (const u of s?.users ?? []) c.addUser(u);
    for (const t of s?.templates ?? []) c.addTemplate(t);
    for (const o of s?.outcomes ?? []) c.setReceiptOutcome(o);
  }
}
