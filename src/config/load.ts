import { readFileSync } from 'node:fs';
import { parse as parseLocating } from 'lossless-json';
import path from 'node:path';
import { projectRoot } from './project-root';
import { configSchema, type Config } from './schema';
import { issueMessage } from '../zod-issue';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Objects merge key by key; anything else (arrays included) replaces. */
function deepMerge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isObject(v) && isObject(out[k]) ? deepMerge(out[k] as Json, v) : v;
  return out;
}

/**
 * Where the syntax error in `text` is, as "line L, column C", or null. JSON.parse's own message may
 * quote the text around the error (in a config file, a secret), so the position comes from
 * lossless-json instead, whose syntax errors end with "at position N" (and are never shown).
 */
function syntaxErrorPosition(text: string): string | null {
  try {
    parseLocating(text);
  } catch (err) {
    const at = /at position (\d+)$/.exec((err as Error).message);
    if (at) {
      const lines = text.slice(0, Number(at[1])).split('\n');
      return `line ${lines.length}, column ${(lines.at(-1) ?? '').length + 1}`;
    }
  }
  return null;
}

function readJson(file: string): Json {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const position = syntaxErrorPosition(text);
    throw new ConfigError(`config file ${file} is not valid JSON: syntax error${position ? ` at ${position}` : ''}`);
  }
  if (!isObject(parsed)) throw new ConfigError(`config file ${file} must hold a JSON object`);
  return parsed;
}

/** The environment variables (README "Configuration"), each mapped onto its config key. */
function fromEnv(env: NodeJS.ProcessEnv): Json {
  const wechat: Json = {};
  const out: Json = {};
  const num = (name: string): number | string => {
    const raw = env[name] as string;
    return /^\d+$/.test(raw) ? Number(raw) : raw; // a non-number is left for the schema to name
  };
  if (env.PORT !== undefined) out.port = num('PORT');
  if (env.REDIS_URL) out.redisUrl = env.REDIS_URL;
  if (env.REDIS_CLUSTER_NODES) out.redisClusterNodes = env.REDIS_CLUSTER_NODES.split(',').map((n) => n.trim()).filter(Boolean);
  if (env.WXREACH_PUBLIC_URL) out.publicUrl = env.WXREACH_PUBLIC_URL;
  if (env.WXREACH_API_KEYS !== undefined) out.apiKeys = env.WXREACH_API_KEYS.split(',').map((k) => k.trim()).filter(Boolean);
  if (env.WXREACH_OPERATOR_KEYS !== undefined) out.operatorKeys = env.WXREACH_OPERATOR_KEYS.split(',').map((k) => k.trim()).filter(Boolean);
  if (env.LOG_LEVEL) out.logLevel = env.LOG_LEVEL;
  if (env.WECHAT_APPID) wechat.appId = env.WECHAT_APPID;
  if (env.WECHAT_APPSECRET) wechat.appSecret = env.WECHAT_APPSECRET;
  if (env.WECHAT_TOKEN) wechat.token = env.WECHAT_TOKEN;
  if (env.WECHAT_AES_KEY) wechat.aesKey = env.WECHAT_AES_KEY;
  if (env.WECHAT_API_BASE) wechat.apiBase = env.WECHAT_API_BASE;
  if (Object.keys(wechat).length > 0) out.wechat = wechat;
  const component: Json = {};
  if (env.WECHAT_COMPONENT_APPID) component.appId = env.WECHAT_COMPONENT_APPID;
  if (env.WECHAT_COMPONENT_APPSECRET) component.appSecret = env.WECHAT_COMPONENT_APPSECRET;
  if (env.WECHAT_COMPONENT_TOKEN) component.token = env.WECHAT_COMPONENT_TOKEN;
  if (env.WECHAT_COMPONENT_AES_KEY) component.aesKey = env.WECHAT_COMPONENT_AES_KEY;
  if (Object.keys(component).length > 0) out.component = component;
  return out;
}

/** Which env variable sets a config key, so an error can name what the operator actually typed. */
const ENV_NAMES: Record<string, string> = {
  port: 'PORT',
  redisUrl: 'REDIS_URL',
  redisClusterNodes: 'REDIS_CLUSTER_NODES',
  publicUrl: 'WXREACH_PUBLIC_URL',
  apiKeys: 'WXREACH_API_KEYS',
  operatorKeys: 'WXREACH_OPERATOR_KEYS',
  logLevel: 'LOG_LEVEL',
  'wechat.appId': 'WECHAT_APPID',
  'wechat.appSecret': 'WECHAT_APPSECRET',
  'wechat.token': 'WECHAT_TOKEN',
  'wechat.aesKey': 'WECHAT_AES_KEY',
  'wechat.apiBase': 'WECHAT_API_BASE',
  'component.appId': 'WECHAT_COMPONENT_APPID',
  'component.appSecret': 'WECHAT_COMPONENT_APPSECRET',
  'component.token': 'WECHAT_COMPONENT_TOKEN',
  'component.aesKey': 'WECHAT_COMPONENT_AES_KEY',
};

const invalid = (lines: string[]) => new ConfigError(`invalid configuration:\n${lines.map((l) => `  ${l}`).join('\n')}`);

/**
 * config/default.json < the file named by WXREACH_CONFIG < environment variables, validated.
 * Throws ConfigError naming every bad key; never echoes a value (it may be a secret).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, defaultsFile = path.join(projectRoot(), 'config/default.json')): Config {
  let merged = readJson(defaultsFile);
  if (env.WXREACH_CONFIG) merged = deepMerge(merged, readJson(env.WXREACH_CONFIG));
  merged = deepMerge(merged, fromEnv(env));
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const key = issue.path.map(String).join('.');
      const envName = ENV_NAMES[key.replace(/\.\d+$/, '')];
      return `  ${key}${envName ? ` (${envName})` : ''}: ${issueMessage(issue)}`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const config = result.data;
  if (config.redisUrl && config.redisClusterNodes) throw invalid(['redisUrl (REDIS_URL) and redisClusterNodes (REDIS_CLUSTER_NODES): set one, not both']);
  if (env.NODE_ENV === 'production') {
    if (!config.redisUrl && !config.redisClusterNodes) throw invalid(['redisUrl (REDIS_URL) or redisClusterNodes (REDIS_CLUSTER_NODES): required when NODE_ENV=production']);
    if (config.apiKeys.length + config.operatorKeys.length === 0) throw invalid(['apiKeys (WXREACH_API_KEYS): required when NODE_ENV=production']);
    // with no account at all wxreach would start demo mode, talking to its built-in fake WeChat
    if (!hasAccounts(config)) {
      throw invalid(['wechat.appId (WECHAT_APPID), accounts or component (WECHAT_COMPONENT_APPID): one is required when NODE_ENV=production (demo mode is not for production)']);
    }
  }
  const wx = config.wechat;
  if (wx.appId && (!wx.appSecret || !wx.token)) {
    throw invalid(['wechat.appSecret (WECHAT_APPSECRET) and wechat.token (WECHAT_TOKEN): required with WECHAT_APPID']);
  }
  if (wx.appId && Object.hasOwn(config.accounts, wx.appId)) throw invalid([`accounts.${wx.appId}: the same account as WECHAT_APPID; define it once`]);
  if (config.component && Object.hasOwn(config.accounts, config.component.appId)) throw invalid([`accounts.${config.component.appId}: that is the third-party platform's own appid`]);
  return config;
}

/** Some account is configured (demo mode starts only when none is). */
export function hasAccounts(config: Config): boolean {
  return config.wechat.appId !== null || Object.keys(config.accounts).length > 0 || config.component !== null;
}
