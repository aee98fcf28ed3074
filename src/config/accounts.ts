import type { Config, TemplateConfig } from './schema';

/** An Official Account of the operator's own, with every setting resolved. */
export interface OwnAccount {
  appId: string;
  appSecret: string;
  /** The server-config Token its pushes are signed with. */
  token: string;
  aesKey: string | null;
  acceptPlaintext: boolean;
  tokenMode: 'stable' | 'classic';
  templates: Readonly<Record<string, TemplateConfig>>;
}

/**
 * The templates of an account: `templateDefaults` (every account has them), overridden name by
 * name by the account's own entries.
 */
export function templatesOf(config: Pick<Config, 'templateDefaults'>, own: Readonly<Record<string, TemplateConfig>> = {}): Record<string, TemplateConfig> {
  return { ...config.templateDefaults, ...own };
}

/**
 * Every own account: the one of the environment variables (WECHAT_APPID…, with the top-level
 * `templates`) first, then those of `accounts`. Settings an account leaves out come from `wechat`.
 */
export function ownAccounts(config: Config): OwnAccount[] {
  const wx = config.wechat;
  const out: OwnAccount[] = [];
  if (wx.appId && wx.appSecret && wx.token) {
    out.push({
      appId: wx.appId,
      appSecret: wx.appSecret,
      token: wx.token,
      aesKey: wx.aesKey,
      acceptPlaintext: wx.acceptPlaintext,
      tokenMode: wx.tokenMode,
      templates: templatesOf(config, config.templates),
    });
  }
  for (const [appId, a] of Object.entries(config.accounts)) {
    out.push({
      appId,
      appSecret: a.appSecret,
      token: a.token,
      aesKey: a.aesKey ?? null,
      acceptPlaintext: a.acceptPlaintext ?? wx.acceptPlaintext,
      tokenMode: a.tokenMode ?? wx.tokenMode,
      templates: templatesOf(config, a.templates),
    });
  }
  return out;
}
