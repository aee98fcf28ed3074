import { createDecipheriv, createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startEmulator, type EmulatorHandle, type EmulatorOptions } from '../../src/emulator';

export const APPID = 'wx0123456789abcdef';
export const SECRET = 'test-secret';
export const TOKEN = 'testtoken';
/** The key of the fixed vector (docs/wechat-protocol-notes.md "The AES envelope"). */
export const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
export const ACCOUNT = 'gh_wxreachdemo';
/** The component of WeChat's official third-party platform vector (token AAAAA, key "A"×43). */
export const COMPONENT = { appId: 'wx134c8103faa5a59e', appSecret: 'component-secret', token: 'AAAAA', aesKey: 'A'.repeat(43) };

export function emulator(extra: EmulatorOptions = {}): Promise<EmulatorHandle> {
  return startEmulator({ appId: APPID, appSecret: SECRET, token: TOKEN, receiptDelayMs: 10, ...extra });
}

export interface Answer {
  status: number;
  text: string;
  json: Record<string, unknown>;
}

async function answer(res: Response): Promise<Answer> {
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON (e.g. an injected 502 page)
  }
  return { status: res.status, text, json };
}

export async function get(url: string): Promise<Answer> {
  return answer(await fetch(url));
}

export async function post(url: string, body: unknown, method = 'POST'): Promise<Answer> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return answer(await fetch(url, { method, body: text, headers: { 'content-type': 'application/json' } }));
}

export async function classicToken(emu: EmulatorHandle): Promise<string> {
  const r = await get(`${emu.url}/cgi-bin/token?grant_type=client_credential&appid=${APPID}&secret=${SECRET}`);
  return r.json.access_token as string;
}

/** A follower and a template with a placeholder list, ready for template sends. */
export async function staged(emu: EmulatorHandle, openid = 'oUSER1') {
  emu.control.addUser({ openid });
  const template_id = emu.control.addTemplate({
    template_id: 'TPL_ORDER',
    title: '订单发货通知',
    content: '{{first.DATA}}\n订单号：{{keyword1.DATA}}\n物流：{{keyword2.DATA}}\n{{remark.DATA}}',
  });
  const token = await classicToken(emu);
  const send = (body: Record<string, unknown>) => post(`${emu.url}/cgi-bin/message/template/send?access_token=${token}`, body);
  const data = { first: { value: 'hello' }, keyword1: { value: 'A-1001' }, keyword2: { value: '顺丰' }, remark: { value: 'bye' } };
  return { openid, template_id, token, send, data };
}

/** Independent of src/wechat: sort, concatenate, SHA-1. */
export function sha1Sorted(parts: string[]): string {
  return createHash('sha1').update([...parts].sort().join('')).digest('hex');
}

/** Independent of WechatCipher: AES-256-CBC, IV = key[0..16], PKCS#7 to 32 bytes, appid trailer. */
export function independentDecrypt(aesKey: string, encrypt: string, appId: string): string {
  const key = Buffer.from(`${aesKey}=`, 'base64');
  const d = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
  d.setAutoPadding(false);
  const plain = Buffer.concat([d.update(Buffer.from(encrypt, 'base64')), d.final()]);
  const pad = plain[plain.length - 1];
  if (pad < 1 || pad > 32) throw new Error(`bad pad ${pad}`);
  const body = plain.subarray(0, plain.length - pad);
  const len = body.readUInt32BE(16);
  const trailer = body.subarray(20 + len).toString('utf8');
  if (trailer !== appId) throw new Error(`appid ${trailer}`);
  return body.subarray(20, 20 + len).toString('utf8');
}

/** Fields of a flat WeChat XML packet, read with a regex (no shared parser). */
export function xmlFields(xml: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of xml.matchAll(/<(\w+)>(?:<!\[CDATA\[([\s\S]*?)\]\]>|([^<]*))<\/\1>/g)) out[m[1]] = m[2] ?? m[3];
  return out;
}

export interface Received {
  path: string;
  query: URLSearchParams;
  body: string;
  contentType: string | undefined;
  at: number;
}

type Responder = (r: Received, index: number) => { status?: number; body?: string; delayMs?: number } | undefined;

/** A tiny callback server standing in for wxreach's /wechat endpoint. */
export class CallbackSink {
  readonly received: Received[] = [];
  respond: Responder = () => undefined;
  private server!: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://x');
        const r: Received = {
          path: url.pathname,
          query: url.searchParams,
          body: Buffer.concat(chunks).toString('utf8'),
          contentType: req.headers['content-type'],
          at: Date.now(),
        };
        this.received.push(r);
        const plan = this.respond(r, this.received.length - 1) ?? {};
        const reply = () => {
          if (res.destroyed) return;
          res.writeHead(plan.status ?? 200, { 'content-type': 'text/plain' });
          res.end(plan.body ?? 'success');
        };
        if (plan.delayMs) setTimeout(reply, plan.delayMs);
        else reply();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/wechat`;
    return this;
  }

  async waitFor(n: number, timeoutMs = 5000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < n) {
      if (Date.now() > deadline) throw new Error(`expected ${n} pushes, got ${this.received.length}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return this.received;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Checks a component push independently (both query signatures with the component Token,
 * encrypt_type=aes, a body of only `outer` and Encrypt, the component appid in the trailer) and
 * returns the decrypted fields.
 */
export function openComponentPush(r: Received, outer: 'AppId' | 'ToUserName'): Record<string, string> {
  const q = r.query;
  const [timestamp, nonce] = [q.get('timestamp')!, q.get('nonce')!];
  expect(q.get('signature')).toBe(sha1Sorted([COMPONENT.token, timestamp, nonce]));
  expect(q.get('encrypt_type')).toBe('aes');
  const body = xmlFields(r.body);
  expect(Object.keys(body)).toEqual([outer, 'Encrypt']);
  expect(q.get('msg_signature')).toBe(sha1Sorted([COMPONENT.token, timestamp, nonce, body.Encrypt]));
  return xmlFields(independentDecrypt(COMPONENT.aesKey, body.Encrypt, COMPONENT.appId));
}
