import { createHash } from 'node:crypto';
import type { PushMode } from '../wechat/outbound-push';
import type { ReceiptOutcomeSetting } from './state';

export interface SeedUser {
  openid: string;
  subscribed?: boolean;
}

export interface SeedTemplate {
  template_id?: string;
  title: string;
  content: string;
  /** The library short id it was added from: api_add_template with it gives the same title and content. */
  short_id?: string;
}

export interface SeedData {
  users?: SeedUser[];
  templates?: SeedTemplate[];
  outcomes?: { openid: string; template_id?: string; outcome: ReceiptOutcomeSetting }[];
}

/** One Official Account the emulator plays (an own account, or a merchant that can authorise the component). */
export interface AccountOptions {
  appId: string;
  appSecret: string;
  /** The server-config Token that signs the account's own pushes (a merchant's pushes through the component use the component's). */
  token: string;
  /** EncodingAESKey (43 chars); turns on safe mode unless `mode` says otherwise. */
  aesKey?: string;
  mode?: PushMode;
  /** The account's original id (ToUserName of pushes); default derived from the appid. */
  account?: string;
  /** Where the account's own pushes go; without it nothing is pushed (a merchant's go to the component once authorised). */
  callbackUrl?: string;
  dailyTemplateQuota?: number;
  seed?: SeedData;
  /** Merchants: the permission set ids (funcscope_category) an authorisation grants; default 1, 2, 3, 7, 11, 15, 89. */
  permissionSets?: number[];
}

/** The WeChat third-party platform ("component") the merchants can authorise. */
export interface ComponentOptions {
  appId: string;
  appSecret: string;
  /** The component Token: signs tickets, authorisation events and every merchant's pushes. */
  token: string;
  /** The component EncodingAESKey: seals the same (component pushes are always encrypted). */
  aesKey: string;
  /** The authorisation-event URL: tickets every 10 minutes of the virtual clock, (un)authorisations. */
  authEventUrl?: string;
  /** The message-and-event URL of all authorised merchants; `$APPID$` is replaced by the merchant's appid. */
  messageUrl?: string;
}

export interface EmulatorOptions {
  /** Default 0 (any free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Where the default account's pushes (receipts, user messages, events) go; without it nothing is pushed. */
  callbackUrl?: string;
  appId?: string;
  appSecret?: string;
  /** The server-config Token that signs pushes. */
  token?: string;
  /** EncodingAESKey (43 chars); turns on safe mode unless `mode` says otherwise. */
  aesKey?: string;
  mode?: PushMode;
  /** The account's original id (ToUserName of pushes). */
  account?: string;
  /** Lifetime of every access token the emulator issues (account, authorizer and component tokens). */
  tokenExpiresIn?: number;
  receiptDelayMs?: number;
  callbackTimeoutMs?: number;
  callbackRetries?: number;
  dailyTemplateQuota?: number;
  seed?: SeedData;
  /** More own accounts, beside the default one the options above describe. */
  accounts?: AccountOptions[];
  component?: ComponentOptions;
  /** Accounts that can authorise the component (needs `component`). */
  merchants?: AccountOptions[];
}

export type AccountKind = 'own' | 'merchant';

export interface ResolvedAccount {
  kind: AccountKind;
  appId: string;
  appSecret: string;
  token: string;
  aesKey?: string;
  mode: PushMode;
  account: string;
  callbackUrl?: string;
  dailyTemplateQuota: number;
  seed?: SeedData;
  permissionSets: number[];
}

export interface ResolvedOptions {
  port: number;
  host: string;
  tokenExpiresIn: number;
  receiptDelayMs: number;
  callbackTimeoutMs: number;
  callbackRetries: number;
  /** The own accounts, the default one first. */
  accounts: ResolvedAccount[];
  merchants: ResolvedAccount[];
  component?: ComponentOptions;
}

export const DEMO_ACCOUNT = {
  appId: 'wxd0e1m2o3a4p5p6i7',
  appSecret: 'emulator-demo-secret',
  token: 'wxreachdemotoken',
} as const;

/** What a merchant grants unless told otherwise: messages, users, account services, notifications, media, menu, subscriptions. */
const DEFAULT_PERMISSION_SETS = [1, 2, 3, 7, 11, 15, 89];
const DEFAULT_DAILY_TEMPLATE_QUOTA = 100000;

/** A stable, distinct original id for an account configured without one. */
export function derivedOriginalId(appId: string): string {
  return `gh_${createHash('sha1').update(appId).digest('hex').slice(0, 12)}`;
}

export function resolveAccount(kind: AccountKind, o: AccountOptions): ResolvedAccount {
  const mode: PushMode = o.mode ?? (o.aesKey ? 'safe' : 'plain');
  if (mode !== 'plain' && !o.aesKey) throw new Error(`account ${o.appId}: mode '${mode}' needs an aesKey`);
  if (!o.appId || !o.appSecret || !o.token) throw new Error(`every account needs an appId, an appSecret and a token (${o.appId || 'no appId'})`);
  return {
    kind,
    appId: o.appId,
    appSecret: o.appSecret,
    token: o.token,
    aesKey: o.aesKey,
    mode,
    account: o.account ?? derivedOriginalId(o.appId),
    callbackUrl: o.callbackUrl,
    dailyTemplateQuota: o.dailyTemplateQuota ?? DEFAULT_DAILY_TEMPLATE_QUOTA,
    seed: o.seed,
    permissionSets: o.permissionSets ?? DEFAULT_PERMISSION_SETS,
  };
}

function checkDistinct(label: string, values: string[]): void {
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) throw new Error(`two accounts share the ${label} ${v}`);
    seen.add(v);
  }
}

export function resolveOptions(o: EmulatorOptions): ResolvedOptions {
  const defaultAccount = resolveAccount('own', {
    appId: o.appId ?? DEMO_ACCOUNT.appId,
    appSecret: o.appSecret ?? DEMO_ACCOUNT.appSecret,
    token: o.token ?? DEMO_ACCOUNT.token,
    aesKey: o.aesKey,
    mode: o.mode,
    account: o.account ?? 'gh_wxreachdemo',
    callbackUrl: o.callbackUrl,
    dailyTemplateQuota: o.dailyTemplateQuota,
    seed: o.seed,
  });
  const accounts = [defaultAccount, ...(o.accounts ?? []).map((a) => resolveAccount('own', a))];
  const merchants = (o.merchants ?? []).map((a) => resolveAccount('merchant', a));
  if (merchants.length > 0 && !o.component) throw new Error('merchants need a component to authorise');
  if (o.component) {
    const c = o.component;
    if (!c.appId || !c.appSecret || !c.token || !c.aesKey) throw new Error('the component needs an appId, an appSecret, a token and an aesKey');
  }
  const all = [...accounts, ...merchants];
  checkDistinct('appid', [...all.map((a) => a.appId), ...(o.component ? [o.component.appId] : [])]);
  checkDistinct('original id', all.map((a) => a.account));
  return {
    port: o.port ?? 0,
    host: o.host ?? '127.0.0.1',
    tokenExpiresIn: o.tokenExpiresIn ?? 7200,
    receiptDelayMs: o.receiptDelayMs ?? 100,
    callbackTimeoutMs: o.callbackTimeoutMs ?? 5000,
    callbackRetries: o.callbackRetries ?? 3,
    accounts,
    merchants,
    component: o.component && { ...o.component },
  };
}
