import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toFields } from '../../src/delivery/notification';
import { createLogger } from '../../src/log/logger';
import type { ServedByChild } from './child-server';
import { BENCH_AES_KEY, BENCH_APP, BENCH_TEMPLATES, benchOpenid, startBenchStack } from './stack';

/**
 * The three servers of the receipt bench, each started in a child process of its own (so its CPU
 * profile and its CPU are its own): wxreach on a throwaway Redis, node-webot's `wechat` middleware
 * on express 4, and a bare node:http responder. The parent (bench/receipts.ts) talks to the child
 * over IPC: the child says `{ url }` when it listens, and `stop` ends it (a normal exit: its Redis
 * and connections are closed first).
 */
export type ReceiptServerKind = 'wxreach' | 'webot' | 'bare';

/** The notices a wxreach child creates before it says it is ready: `count` of them, from index 0. */
export interface ReceiptServerOptions {
  kind: ReceiptServerKind;
  notices: number;
  users: number;
}

/** What the bench needs of notice `i`: the user it went to and WeChat's msgid of its template message. */
export const benchNotice = (i: number, users: number) => ({
  openid: benchOpenid(i % users),
  msgid: String(3_000_000_000 + i),
});

/** The ToUserName of the bench account's pushes. */
export const BENCH_GH_ID = 'gh_0b1e2n3c4h5a';

const HOUR_MS = 3600_000;

async function startWxreach(o: ReceiptServerOptions): Promise<ServedByChild> {
  // as deployed: at info, one JSON line per status change, to stdout (the bench reads it)
  const stack = await startBenchStack({ users: o.users, receiptDelayMs: 0, aes: true, clientConcurrency: 1, log: createLogger({ level: 'info' }) });
  const store = stack.store.forAccount(BENCH_APP.appId);
  const templateId = BENCH_TEMPLATES.order_paid.id;
  const now = Date.now();
  // Each notice as the template leg leaves it once WeChat accepted its message: awaiting its
  // receipt, its msgid linked, its receipt deadline an hour away (so the work loop leaves it be).
  let next = 0;
  const create = async () => {
    while (next < o.notices) {
      const i = next++;
      const { openid, msgid } = benchNotice(i, o.users);
      const id = store.newId(openid);
      const fields = toFields({
        id,
        openid,
        template: 'order_paid',
        data: { first: { value: '您好，您的订单有新进展' }, order_no: { value: `A${i}` }, amount: { value: '¥128.00' }, remark: { value: '感谢您的惠顾' } },
        status: 'awaiting_receipt',
        client: 'bench',
        templateId,
        msgid,
        channel: 'template',
        receiptDueAt: now + HOUR_MS,
        attempts: 0,
        csAttempts: 0,
        createdAt: now,
      });
      const at = new Date(now).toISOString();
      await store.create(id, fields, { at, status: 'queued', detail: 'accepted' }, { ttlSeconds: 3 * 24 * 3600, dueAt: now + HOUR_MS });
      await store.linkMsgid(msgid, id, 24 * 3600);
    }
  };
  await Promise.all(Array.from({ length: 64 }, create));
  return {
    url: stack.service.url,
    close: () => stack.close(),
    redis: async () => {
      const [calls, cpuMicros] = await Promise.all([stack.redis.commandCalls(), stack.redis.cpuMicros()]);
      return { calls, cpuMicros };
    },
  };
}

/** node-webot's middleware in safe mode: verifies msg_signature, decrypts, parses (xml2js), and answers `success`. */
async function startWebot(): Promise<ServedByChild> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const express = require('express4') as () => { use(path: string, handler: unknown): void; listen(port: number, host: string, cb: () => void): Server };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const wechat = require('wechat') as (config: object, handler: (req: unknown, res: { writeHead(s: number): void; end(b: string): void }) => void) => unknown;
  const app = express();
  // No body parser before it: the middleware reads the stream itself (it hangs on a consumed one).
  app.use(
    '/wechat',
    wechat({ token: BENCH_APP.token, appid: BENCH_APP.appId, encodingAESKey: BENCH_AES_KEY }, (_req, res) => {
      res.writeHead(200);
      res.end('success');
    }),
  );
  return listening((ready) => app.listen(0, '127.0.0.1', ready));
}

/** The floor: node:http reading the body and answering `success`, nothing checked. */
async function startBare(): Promise<ServedByChild> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('success');
    });
  });
  return listening((ready) => server.listen(0, '127.0.0.1', ready));
}

async function listening(listen: (ready: () => void) => Server): Promise<ServedByChild> {
  let server: Server | undefined;
  await new Promise<void>((resolve) => (server = listen(resolve)));
  const s = server as Server;
  return {
    url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => {
      s.closeAllConnections();
      s.close(() => resolve());
    }),
  };
}

export function startReceiptServer(o: ReceiptServerOptions): Promise<ServedByChild> {
  if (o.kind === 'wxreach') return startWxreach(o);
  if (o.kind === 'webot') return startWebot();
  return startBare();
}
