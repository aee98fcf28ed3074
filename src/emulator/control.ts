import { closeAllowances, openEventAllowance, openMessageAllowance } from './cs-window';
import type { EmulatorCore } from './core';
import type { FaultSettings } from './faults';
import { event, pushInteraction, textMessage } from './interactions';
import type { PassiveReplyResult } from './passive-reply';
import type { SeedTemplate, SeedUser } from './options';
import type { EmulatedUser, InboxEntry, ReceiptOutcomeSetting } from './state';
import { addTemplate } from './templates';

/** A control call that cannot be done; `status` is the HTTP status the control route answers. */
export class ControlError extends Error {
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
  ) {
    super(message);
    this.name = 'ControlError';
  }
}

export interface UserView {
  openid: string;
  subscribed: boolean;
  messageAllowance?: { expiresAt: string; left: number };
  eventAllowance?: { expiresAt: string; left: number };
  refused: string[];
}

export interface EmulatorStats {
  /** Calls per request path, control routes included. */
  calls: Record<string, number>;
  /** Pushes to the callback: each attempt, and the pushes that got (or never got) a 2xx. */
  callbacks: { attempts: number; delivered: number; failed: number };
  templateQuotaUsedToday: number;
}

/**
 * Everything a test or a person can do to stage a scenario. The `/_emulator` HTTP routes call
 * these same methods, so both ways behave identically.
 */
export class EmulatorControl {
  constructor(private readonly core: EmulatorCore) {}

  addUser(u: SeedUser): UserView {
    const existing = this.core.state.users.get(u.openid);
    const user = existing ?? this.core.state.newUser(u.openid, u.subscribed ?? true);
    if (existing && u.subscribed !== undefined) user.subscribed = u.subscribed;
    return this.view(user);
  }

  user(openid: string): UserView {
    return this.view(this.mustUser(openid));
  }

  /** A (re-)follow: opens the 3 / 1-minute window and pushes `subscribe`; an unknown openid becomes a new follower. */
  subscribe(openid: string): Promise<PassiveReplyResult> {
    const user = this.core.state.users.get(openid) ?? this.core.state.newUser(openid, true);
    user.subscribed = true;
    openEventAllowance(user, this.core.clock.now());
    return pushInteraction(this.core, user, event('subscribe', { EventKey: '' }));
  }

  /** Unfollow: closes both windows (45015 afterwards), template sends get 43004; pushes `unsubscribe`. */
  async unsubscribe(openid: string): Promise<PassiveReplyResult> {
    const user = this.mustUser(openid);
    user.subscribed = false;
    closeAllowances(user);
    return pushInteraction(this.core, user, event('unsubscribe', { EventKey: '' }));
  }

  addTemplate(t: SeedTemplate): string {
    if (!t.title || typeof t.content !== 'string') throw new ControlError(400, 'a template needs a title and a content');
    return addTemplate(this.core, t);
  }

  deleteTemplate(templateId: string): void {
    if (!this.core.state.templates.delete(templateId)) throw new ControlError(404, `no template ${templateId}`);
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
    openMessageAllowance(user, this.core.clock.now());
    return pushInteraction(this.core, user, textMessage(this.core, text));
  }

  userClicksMenu(openid: string, key: string): Promise<PassiveReplyResult> {
    const user = this.mustFollower(openid);
    openEventAllowance(user, this.core.clock.now());
    return pushInteraction(this.core, user, event('CLICK', { EventKey: key }));
  }

  /** A parametric QR code: SCAN for a follower, subscribe with `qrscene_` for anyone else. */
  userScans(openid: string, scene: string): Promise<PassiveReplyResult> {
    const user = this.core.state.users.get(openid) ?? this.core.state.newUser(openid, false);
    const wasFollower = user.subscribed;
    user.subscribed = true;
    openEventAllowance(user, this.core.clock.now());
    const Ticket = `gQ${this.core.ids.nonce()}`;
    const fields = wasFollower ? event('SCAN', { EventKey: scene, Ticket }) : event('subscribe', { EventKey: `qrscene_${scene}`, Ticket });
    return pushInteraction(this.core, user, fields);
  }

  inbox(openid: string): InboxEntry[] {
    return [...this.mustUser(openid).inbox];
  }

  setFaults(f: FaultSettings): FaultSettings {
    return this.core.faults.set(f);
  }

  /** Every issued token becomes invalid (40001); the fetch endpoints hand out the new ones. */
  rotateToken(): { classic: string; stable: string } {
    return this.core.tokens.rotate();
  }

  invalidateTokens(): void {
    this.core.tokens.invalidate();
  }

  advanceClock(seconds: number): { now: string } {
    if (!Number.isFinite(seconds) || seconds < 0) throw new ControlError(400, 'seconds must be a number ≥ 0');
    this.core.clock.advance(seconds);
    return { now: this.core.clock.iso() };
  }

  now(): string {
    return this.core.clock.iso();
  }

  /** Back to the start: seed users/templates only, no tokens, no faults, counters and clock at zero. */
  reset(): void {
    this.core.resetState();
    seed(this);
  }

  stats(): EmulatorStats {
    return {
      calls: Object.fromEntries(this.core.calls),
      callbacks: { ...this.core.callback.counters },
      templateQuotaUsedToday: this.core.state.quotaDay === this.core.clock.chinaDay() ? this.core.state.quotaUsed : 0,
    };
  }

  setCallbackUrl(url: string | undefined): void {
    if (url !== undefined && !/^https?:\/\//.test(url)) throw new ControlError(400, 'the callback URL must start with http:// or https://');
    this.core.callback.url = url;
  }

  /** Resolves once no receipt or push is scheduled or in flight (handy in tests). */
  whenIdle(): Promise<void> {
    return this.core.whenIdle();
  }

  /** The seed from the options, used at start and by reset(). */
  get seedData() {
    return this.core.opts.seed;
  }

  private mustUser(openid: string): EmulatedUser {
    const user = this.core.state.users.get(openid);
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

/** Applies the options' seed through the control methods. */
export function seed(control: EmulatorControl): void {
  const s = control.seedData;
  for (const u of s?.users ?? []) control.addUser(u);
  for (const t of s?.templates ?? []) control.addTemplate(t);
  for (const o of s?.outcomes ?? []) control.setReceiptOutcome(o);
}
