import type { AddressInfo } from 'node:net';
import express from 'express';
import { startEmulator, type EmulatorHandle, type EmulatorOptions } from '../../src/emulator';
import { errorHandler } from '../../src/http/errors';
import { componentApiRouter, componentEdgeRouter } from '../../src/http/component-router';
import type { Logger } from '../../src/log/logger';
import { openSealed } from '../../src/wechat/envelope';
import { JsonHttp } from '../../src/wechat/http-json';
import { parsePush } from '../../src/wechat/push';
import { NO_REPLY, replyBody } from '../../src/wechat/replies';
import { parseXml } from '../../src/wechat/xml';
import { Platform, type ComponentSettings } from '../../src/wechat/component/platform';
import { capturedLogger } from './logs';
import { testKv, type TestKv } from './component-kv';
import type { KeyValueStore } from '../../src/store/store';

export const COMPONENT = {
  appId: 'wxc0c0c0c0c0c0c0c0',
  appSecret: 'component-secret-for-tests-0001',
  token: 'componenttoken',
  aesKey: 'Zyxwvutsrqponmlkjihgfedcba9876543210ZYXWVUT',
};

/** Merchants of the emulator that can authorise the platform. */
export const MERCHANTS = [
  { appId: 'wxa1a1a1a1a1a1a1a1', appSecret: 'merchant-a-secret', token: 'merchanta', account: 'gh_a1a1a1a1a1a1' },
  { appId: 'wxb2b2b2b2b2b2b2b2', appSecret: 'merchant-b-secret', token: 'merchantb', account: 'gh_b2b2b2b2b2b2' },
  { appId: 'wxc3c3c3c3c3c3c3c3', appSecret: 'merchant-c-secret', token: 'merchantc', account: 'gh_c3c3c3c3c3c3' },
];

export interface PlatformRig {
  emulator: EmulatorHandle;
  /** Where the rig's HTTP server (the platform's routers) listens. */
  url: string;
  platform: Platform;
  /** Calls the emulator as WeChat (the platform's own client). */
  http: JsonHttp;
  kv: TestKv;
  /** The platform's events, in order. */
  events: string[];
  logs: () => string;
  /** Another instance of the platform on the same store (another wxreach process). */
  instance(kv?: KeyValueStore): Platform;
  /** wxreach restarts: a new instance (nothing in memory) serves HTTP and becomes `platform`. */
  restart(): Promise<void>;
  /** Moves the platform's clock (the emulator's has its own: advance both). */
  advance(seconds: number): void;
  close(): Promise<void>;
}

export interface RigOptions {
  publicUrl?: string | null;
  ticketWaitMs?: number;
  /** Set the emulator's authorisation-event URL at start (a ticket is pushed at once). Default true. */
  ticketPushes?: boolean;
  emulator?: Partial<EmulatorOptions>;
  /** The store the first instance uses (fault injection); the rig's `kv` stays the plain one. */
  wrapKv?: (kv: KeyValueStore) => KeyValueStore;
  log?: Logger;
}

/**
 * The platform against the emulator: the emulator plays WeChat with its third-party platform and
 * three merchants; an HTTP server serves the platform's edge at /wechat/component, its API under
 * /v1, and a minimal merchant-push endpoint at /wechat/:appid (verify, decrypt, the release test,
 * a sealed passive reply: what wxreach's own router does before its normal handling).
 */
export async function startPlatformRig(o: RigOptions = {}): Promise<PlatformRig> {
  const captured = capturedLogger();
  const log = o.log ?? captured.log;
  const emulator = await startEmulator({ component: { ...COMPONENT }, merchants: MERCHANTS, ...o.emulator });
  const kv = await testKv();
  const events: string[] = [];
  let offset = 0;
  const now = () => Date.now() + offset;
  const app = express();
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const settings: ComponentSettings = { ...COMPONENT, publicUrl: o.publicUrl === undefined ? url : o.publicUrl };

  const http = new JsonHttp(emulator.url, 5000, 8);
  function instance(store: KeyValueStore = kv): Platform {
    return new Platform({
      settings,
      http,
      kv: store,
      log,
      now,
      ticketWaitMs: o.ticketWaitMs ?? 3000,
      loginPageUrl: `${emulator.url}/cgi-bin/componentloginpage`,
      onToken: log.secretUntil,
      events: {
        authorized: (appid) => void events.push(`authorized ${appid}`),
        unauthorized: (appid) => void events.push(`unauthorized ${appid}`),
      },
    });
  }
  /** The routers of the instance serving HTTP (replaced by a restart). */
  function routers(platform: Platform): express.Router {
    const router = express.Router();
    router.use('/wechat/component', componentEdgeRouter(platform, { log, skewSeconds: 300 }));
    router.post('/wechat/:appid', express.text({ type: () => true }), async (req, res) => {
      const { token, cipher } = platform.pushCredentials;
      const { timestamp, nonce, msg_signature: signature } = req.query as Record<string, string>;
      const plain = openSealed(cipher, token, (await parseXml(req.body as string)).Encrypt, timestamp, nonce, signature);
      const answer = await platform.releaseTest.handle(req.params.appid, parsePush(await parseXml(plain)), plain);
      if (answer === null) return res.type('text/plain').send(NO_REPLY);
      if (answer === '') return res.type('text/plain').send('');
      res.type('application/xml').send(replyBody(answer, { cipher, token, timestamp }));
    });
    router.use('/v1', componentApiRouter(platform));
    return router;
  }
  const first = instance(o.wrapKv ? o.wrapKv(kv) : kv);
  let serving = routers(first);
  app.use((req, res, next) => serving(req, res, next));
  app.use(errorHandler(log));

  emulator.control.component.setMessageUrl(`${url}/wechat/$APPID$`);
  if (o.ticketPushes !== false) emulator.control.component.setAuthEventUrl(`${url}/wechat/component`);

  const rig: PlatformRig = {
    emulator,
    url,
    platform: first,
    http,
    kv,
    events,
    logs: captured.text,
    instance,
    async restart() {
      await rig.platform.settled();
      rig.platform = instance();
      serving = routers(rig.platform);
    },
    advance(seconds) {
      offset += seconds * 1000;
    },
    async close() {
      await rig.platform.settled();
      await emulator.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await http.close();
      await kv.close();
    },
  };
  return rig;
}
