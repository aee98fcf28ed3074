import { loadConfig } from './config/load';
import type { Config } from './config/schema';
import { startEmulator, type EmulatorHandle, type EmulatorOptions } from './emulator';
import type { Logger } from './log/logger';
import { startService, type Service } from './service';
import { MemoryStore } from './store/memory-store';
import { RedisStore } from './store/redis-store';
import type { Store } from './store/store';

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

/** The WeChat side of a stack: the emulator playing the account, and a wxreach config pointed at it. */
export interface EmulatedAccount {
  emulator: EmulatorHandle;
  config: Config;
}

/** Starts the emulator for the account and points `base` (wxreach's config) at it. */
export async function startEmulatedAccount(options: AccountOptions, base: Config): Promise<EmulatedAccount> {
  const { account, templates } = options;
  const emulator = await startEmulator({
    ...options.emulator,
    ...account,
    seed: {
      users: options.users.map((openid) => ({ openid, subscribed: true })),
      templates: Object.values(templates)
        .filter((t) => !t.deletedAtWechat)
        .map((t) => ({ template_id: t.id, title: t.title, content: t.content, short_id: t.shortId })),
    },
  });
  const config: Config = {
    ...base,
    wechat: { ...base.wechat, appId: account.appId, appSecret: account.appSecret, token: account.token, aesKey: account.aesKey ?? null, apiBase: emulator.url },
    templates: Object.fromEntries(Object.entries(templates).map(([name, t]) => [name, t.fallback === undefined ? { id: t.id } : { id: t.id, fallback: t.fallback }])),
  };
  return { emulator, config };
}

/** The emulator pushes (receipts, user messages, events) to the wxreach service at `serviceUrl`. */
export function wirePushes(emulator: EmulatorHandle, serviceUrl: string): void {
  emulator.control.setCallbackUrl(`${serviceUrl}/wechat`);
}

/** Where the stack's service keeps its notifications. */
export type StoreChoice = 'memory' | { redisUrl: string; prefix: string };

export interface StackOptions extends AccountOptions {
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
 * The emulator playing WeChat, one wxreach service in this process (HTTP server and work loop) on
 * a free port, and its store, wired together: the emulator's pushes reach the service.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const { emulator, config: accountConfig } = await startEmulatedAccount(options, { ...loadConfig({}), port: 0, apiKeys: options.apiKeys });
  const config = options.config ? options.config(accountConfig) : accountConfig;
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
  const service = await startService({ config, store: options.wrapStore ? options.wrapStore(store) : store, log: options.log, now: options.now }).catch(
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
