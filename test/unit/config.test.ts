import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/load';

const dir = mkdtempSync(path.join(tmpdir(), 'wxreach-config-'));
const file = (name: string, content: unknown) => {
  const p = path.join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
};

describe('configuration', () => {
  it('loads the defaults', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.wechat.apiBase).toBe('https://api.weixin.qq.com');
    expect(c.receipt).toEqual({ timeoutSeconds: 600, onTimeout: 'fallback' });
    expect(c.templates.order_paid.fallback).toContain('{{order_no}}');
  });

  it('layers default.json < WXREACH_CONFIG file < environment', () => {
    const f = file('a.json', { port: 4100, receipt: { timeoutSeconds: 30 }, templates: { seat: { id: 'TPL_SEAT_0001', fallback: 'Seat {{seat}}' } } });
    const c = loadConfig({ WXREACH_CONFIG: f, PORT: '4200', WECHAT_APPID: 'wx0123456789abcdef', WECHAT_APPSECRET: 's3cret', WECHAT_TOKEN: 'tok123' });
    expect(c.port).toBe(4200);
    expect(c.receipt).toEqual({ timeoutSeconds: 30, onTimeout: 'fallback' });
    expect(Object.keys(c.templates).sort()).toEqual(['order_paid', 'seat']);
    expect(c.wechat.appId).toBe('wx0123456789abcdef');
  });

  it('names the bad key (and its variable) without echoing the value', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/port \(PORT\)/);
    let message = '';
    try {
      loadConfig({ WECHAT_AES_KEY: 'tooShortSecretValue' });
    } catch (err) {
      message = (err as ConfigError).message;
    }
    expect(message).toMatch(/wechat\.aesKey \(WECHAT_AES_KEY\): must be the 43-character EncodingAESKey/);
    expect(message).not.toContain('tooShortSecretValue');
    const f = file('b.json', { receipt: { onTimeout: 'ignore' } });
    expect(() => loadConfig({ WXREACH_CONFIG: f })).toThrow(/receipt\.onTimeout/);
    // a bad key of a map says what a key must be, not zod's "Invalid key in record"
    const badName = file('d.json', { templates: { 'order paid': { id: 'TPL_1', fallback: 'x' } }, accounts: { notAnAppid: {} } });
    expect(() => loadConfig({ WXREACH_CONFIG: badName })).toThrow(/templates\.order paid: template names: letters, digits, _ \. -\n {2}accounts\.notAnAppid: must look like wx0123456789abcdef/);
  });

  it('refuses an unreadable config file and incomplete credentials', () => {
    expect(() => loadConfig({ WXREACH_CONFIG: path.join(dir, 'missing.json') })).toThrow(/cannot read config file/);
    expect(() => loadConfig({ WXREACH_CONFIG: file('c.json', '[1]') })).toThrow(/JSON object/);
    expect(() => loadConfig({ WECHAT_APPID: 'wx0123456789abcdef' })).toThrow(/WECHAT_APPSECRET/);
  });

  it.each([
    ['an unquoted value', '{\n  "wechat": {\n    "appSecret": s3cretValueNotQuoted42\n  }\n}', 'line 3, column 18'],
    ['a missing comma', '{\n  "wechat": { "appSecret": "s3cretValueNotQuoted42" "token": "t" }\n}', 'line 2, column 53'],
    ['a cut-off file', '{ "wechat": { "appSecret": "s3cretValueNotQuoted42', 'line 1, column 51'],
  ])('points at a syntax error in a config file (%s) by position, never by content', (_what, content, position) => {
    const f = file('syntax.json', content);
    let message = '';
    try {
      loadConfig({ WXREACH_CONFIG: f });
    } catch (err) {
      message = (err as ConfigError).message;
    }
    expect(message).toBe(`config file ${f} is not valid JSON: syntax error at ${position}`);
    expect(message).not.toContain('s3cret');
  });

  it('requires Redis, API keys and a real account (no demo mode) in production', () => {
    const account = { WECHAT_APPID: 'wx0123456789abcdef', WECHAT_APPSECRET: 's3cret', WECHAT_TOKEN: 'tok123' };
    expect(() => loadConfig({ NODE_ENV: 'production', WXREACH_API_KEYS: 'k'.repeat(20), ...account })).toThrow(/REDIS_URL/);
    expect(() => loadConfig({ NODE_ENV: 'production', REDIS_URL: 'redis://127.0.0.1:6379', ...account })).toThrow(/WXREACH_API_KEYS/);
    const keys = `${'a'.repeat(16)}, ${'b'.repeat(16)}`;
    expect(() => loadConfig({ NODE_ENV: 'production', REDIS_URL: 'redis://r:6379', WXREACH_API_KEYS: keys })).toThrow(
      /wechat\.appId \(WECHAT_APPID\), accounts or component \(WECHAT_COMPONENT_APPID\): one is required when NODE_ENV=production/,
    );
    expect(loadConfig({ NODE_ENV: 'production', REDIS_URL: 'redis://r:6379', WXREACH_API_KEYS: keys, ...account }).apiKeys).toHaveLength(2);
    // operator keys alone are keys enough
    expect(loadConfig({ NODE_ENV: 'production', REDIS_URL: 'redis://r:6379', WXREACH_OPERATOR_KEYS: keys, ...account }).operatorKeys).toHaveLength(2);
  });

  it('reads operator keys as API keys are read, and checks them the same way, naming the variable', () => {
    const limited = `${'o'.repeat(16)}=wx0123456789abcdef|wx1111111111111111`;
    expect(loadConfig({ WXREACH_OPERATOR_KEYS: ` ${'p'.repeat(16)} ,${limited}` }).operatorKeys).toEqual(['p'.repeat(16), limited]);
    expect(loadConfig({}).operatorKeys).toEqual([]);
    expect(() => loadConfig({ WXREACH_OPERATOR_KEYS: 'too-short' })).toThrow(/operatorKeys\.0 \(WXREACH_OPERATOR_KEYS\): API keys must be at least 16 characters/);
    expect(() => loadConfig({ WXREACH_OPERATOR_KEYS: `${'o'.repeat(16)}=shop-a` })).toThrow(/WXREACH_OPERATOR_KEYS/);
  });
});
