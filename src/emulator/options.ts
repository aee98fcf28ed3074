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

export interface EmulatorOptions {
  /** Default 0 (any free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Where pushes (receipts, user messages, events) go; without it nothing is pushed. */
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
  tokenExpiresIn?: number;
  receiptDelayMs?: number;
  callbackTimeoutMs?: number;
  callbackRetries?: number;
  dailyTemplateQuota?: number;
  seed?: { users?: SeedUser[]; templates?: SeedTemplate[]; outcomes?: { openid: string; template_id?: string; outcome: ReceiptOutcomeSetting }[] };
}

export type ResolvedOptions = Required<Omit<EmulatorOptions, 'callbackUrl' | 'aesKey' | 'seed'>> &
  Pick<EmulatorOptions, 'callbackUrl' | 'aesKey' | 'seed'>;

export const DEMO_ACCOUNT = {
  appId: 'wxd0e1m2o3a4p5p6i7',
  appSecret: 'emulator-demo-secret',
  token: 'wxreachdemotoken',
} as const;

export function resolveOptions(o: EmulatorOptions): ResolvedOptions {
  const mode: PushMode = o.mode ?? (o.aesKey ? 'safe' : 'plain');
  if (mode !== 'plain' && !o.aesKey) throw new Error(`mode '${mode}' needs an aesKey`);
  return {
    port: o.port ?? 0,
    host: o.host ?? '127.0.0.1',
    callbackUrl: o.callbackUrl,
    appId: o.appId ?? DEMO_ACCOUNT.appId,
    appSecret: o.appSecret ?? DEMO_ACCOUNT.appSecret,
    token: o.token ?? DEMO_ACCOUNT.token,
    aesKey: o.aesKey,
    mode,
    account: o.account ?? 'gh_wxreachdemo',
    tokenExpiresIn: o.tokenExpiresIn ?? 7200,
    receiptDelayMs: o.receiptDelayMs ?? 100,
    callbackTimeoutMs: o.callbackTimeoutMs ?? 5000,
    callbackRetries: o.callbackRetries ?? 3,
    dailyTemplateQuota: o.dailyTemplateQuota ?? 100000,
    seed: o.seed,
  };
}
