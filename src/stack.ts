import { loadConfig } from './config/load';
import type { Config } from './config/schema';
import { startEmulator, type EmulatorHandle, type EmulatorOptions } from './emulator';
import type { Logger } from './log/logger';
import { platformFor } from './platform-wiring';
import { startService, type Service } from './service';
import { MemoryStore } from './store/memory-store';
import { RedisStore } from './store/redis-store';
import type { Store } from './store/store';
import { freePort } from './dev/free-port';

/** The Official Account both sides share: the emulator plays it, wxreach is configured with it. */
export interface StackAccount {
  appId: string;
  appSecret: string;
  token: string;
  /** EncodingAESKey: pushes in safe mode (unless the emulator's `mode` says otherwise). */
  aesKey?: string;
}

/** A template of the account, as WeChat has it and as wxreach is configured for it. */
export interface StackTemplate {
  id: string;
  title: string;
  content: string;
  /** wxreach's customer-service text when the template does not reach the user. */
  fallback?: string;
  /** The library short id WeChat added it from. */
  shortId?: string;
  /** Configured in wxreach, but already deleted on the WeChat side when wxreach starts. */
  deletedAtWechat?: boolean;
}

export interface AccountOptions {
  account: StackAccount;
  /** By the name wxreach's API knows them by. */
  templates: Record<string, StackTemplate>;
  /** Openids of the account's followers. */
  users: readonly string[];
  /** The rest of the emulator's settings (port, receipt delay, quotas, push mode...). */
  emulator?: Omit<EmulatorOptions, keyof StackAccount | 'seed'>;
}

/** One more account of the stack: an own account, or a merchant of the third-party platform. */
export interface StackMoreAccount {
  account: StackAccount;
  templates: Record<string, StackTemplate>;
  users: readonly string[];
  /** The emulator's daily template quota of this account (default: plenty). */
  dailyTemplateQuota?: number;
}

/** Third-party platform mode: the platform's keys, its merchants, and the templates every account has. */
export interface StackComponent {
  keys: { appId: string; appSecret: string; token: string; aesKey: string };
  /** Merchants that can authorise the platform (the emulator plays them; wxreach learns of them when they do). */
  merchants: StackMoreAccount[];
  /** wxreach's `templateDefaults`: found in each merchant's list by title. */
  templateDefaults: Config['templateDefaults'];
}

/** The WeChat side of a stack: the emulator playing the accounts, and a wxreach config pointed at it. */
export interface EmulatedAccount {
  emulator: EmulatorHandle;
  config: Config;
}

/** The emulator's seed of an account: its followers and the templates still on the WeChat side. */
const seedOf = (templates: Record<string, StackTemplate>, users: readonly string[]) => ({
  users: users.map((openid) => ({ openid, subscribed: true })),
  templates: Object.values(templates)
    .filter((t) => !t.deletedAtWechat)
    .map((t) => ({ template_id: t.id, title: t.title, content: t.content, short_id: t.shortId })),
});

/** wxreach's templates of an account, by name. */
const configuredTemplates = (templates: Record<string, StackTemplate>) =>
  Object.fromEntries(Object.entries(templates).map(([name, t]) => [name, t.fallback === undefined ? { id: t.id } : { id: t.id, fallback: t.fallback }]));

/** Starts the emulator for the accounts and points `base` (wxreach's config) at it. */
export async function startEmulatedAccount(options: AccountOptions & { more?: StackMoreAccount[]; component?: StackComponent }, base: Config): Promise<EmulatedAccount> {
  const { account, templates, more = [], component } = options;
  const emulator = await startEmulator({
    ...options.emulator,
    ...account,
    seed: seedOf(templates, options.users),
    accounts: more.map((m) => ({ ...m.account, dailyTemplateQuota: m.dailyTemplateQuota, seed: seedOf(m.templates, m.users) })),
    ...(component && {
      component: component.keys,
      merchants: component.merchants.map((m) => ({ ...m.account, seed: seedOf(m.templates, m.users) })),
    }),
  });
  const config: Config = {
    ...base,
    wechat: { ...base.wechat, appId: account.appId, appSecret: account.appSecret, token: account.token, aesKey: account.aesKey ?? null, apiBase: emulator.url },
    templates: configuredTemplates(templates),
    accounts: Object.fromEntries(
      more.map((m) => [m.account.appId, { appSecret: m.account.appSecret, token: m.account.token, aesKey: m.account.aesKey ?? null, templates: configuredTemplates(m.templates) }]),
    ),
    component: component?.keys ?? null,
    templateDefaults: component?.templateDefaults ?? base.templateDefaults,
  };
  return { emulator, config };
}

/**
 * The emulator pushes (receipts, user messages, events) to the wxreach service at `serviceUrl`:
 * to /wechat when it has one account, else each to /wechat/<appid>; a platform's events to
 * /wechat/component and its merchants' pushes to /wechat/$APPID$.
 */
export function wirePushes(emulator: EmulatorHandle, serviceUrl: string): void {
  const own = emulator.control.accounts().filter((a) => a.kind === 'own');
  for (const a of own) emulator.control.account(a.appId).setCallbackUrl(own.length === 1 ? `${serviceUrl}/wechat` : `${serviceUrl}/wechat/${a.appId}`);
  if (emulator.control.accounts().some((a) => a.kind === 'merchant')) {
    emulator.control.component.setMessageUrl(`${serviceUrl}/wechat/$APPID$`);
    emulator.control.component.setAuthEventUrl(`${serviceUrl}/wechat/component`);
  }
}

/** Where the stack's service keeps its notifications. */
export type StoreChoice = 'memory' | { redisUrl: string; prefix: string };

export interface StackOptions extends AccountOptions {
  /** More own accounts beside `account`. */
  more?: StackMoreAccount[];
  /** Third-party platform mode. */
  component?: StackComponent;
  apiKeys: string[];
  /** Last word on the service config (after the account's settings, on a free port). */
  config?: (c: Config) => Config;
  store: StoreChoice;
  /** Wraps the store the service uses (fault injection); the stack's `store` stays the plain one. */
  wrapStore?: (store: Store) => Store;
  log: Logger;
  /** The service's clock; defaults to the wall clock. */
  now?: () => number;
}

export interface Stack {
  emulator: EmulatorHandle;
  service: Service;
  store: Store;
  config: Config;
  close(): Promise<void>;
}

/**
 * The WeChat side of a stack and the service config pointed at it (on a free port, `config` had
 * its last word), before any service starts: what startStack runs in this process, and what a
 * bench hands a service in a process of its own.
 */
export async function emulateStack(options: Omit<StackOptions, 'store' | 'wrapStore' | 'log' | 'now'>): Promise<EmulatedAccount> {
  // A platform's authorisation links come back to wxreach itself: its port is chosen up front.
  const port = options.component ? await freePort() : 0;
  const base = { ...loadConfig({}), port, apiKeys: options.apiKeys, publicUrl: options.component ? `http://127.0.0.1:${port}` : null };
  const { emulator, config } = await startEmulatedAccount(options, base);
  return { emulator, config: options.config ? options.config(config) : config };
}

/**
 * The emulator playing WeChat, one wxreach service in this process (HTTP server and work loop) on
 * a free port, and its store, wired together: the emulator's pushes reach the service.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const { emulator, config } = await emulateStack(options);
  const platform = config.component ? platformFor(config.component, config.publicUrl, { loginPageUrl: `${emulator.url}/cgi-bin/componentloginpage` }) : undefined;
  // A stack that fails half-way closes what it started, so no server outlives the failure.
  const closing =
    (...started: Array<{ close(): Promise<void> }>) =>
    async (err: unknown): Promise<never> => {
      for (const part of started) await part.close();
      throw err;
    };
  const store: Store =
    options.store === 'memory'
      ? new MemoryStore()
      : await RedisStore.connect({ url: options.store.redisUrl, prefix: options.store.prefix }).catch(closing(emulator));
  const service = await startService({ config, store: options.wrapStore ? options.wrapStore(store) : store, log: options.log, now: options.now, platform }).catch(
    closing(store, emulator),
  );
  wirePushes(emulator, service.url);
  return {
    emulator,
    service,
    store,
    config,
    async close() {
      await service.stop();
      await emulator.close();
      await store.close();
    },
  };
}
