import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config/schema';
import { enqueueOutcomeMix } from './demo-outcomes';
import { parseApiKey } from './http/auth';
import type { EmulatorHandle } from './emulator';
import { DEMO_ACCOUNT } from './emulator/options';
import { startEmulatedAccount, wirePushes, type StackTemplate } from './stack';

export const DEMO_USER = 'oDEMO_user_0001';

/** Demo templates: "order_paid" works, "order_shipped" is deleted on the WeChat side after start-up. */
export const DEMO_TEMPLATES = {
  order_paid: {
    id: 'DEMO_TPL_ORDER_PAID_0001',
    title: 'Order paid',
    content: 'Order: {{order_no.DATA}}\nAmount: {{amount.DATA}}',
    fallback: 'Your order {{order_no}} is paid: {{amount}}. {{url}}',
  },
  order_shipped: {
    id: 'DEMO_TPL_ORDER_SHIPPED_01',
    title: 'Order shipped',
    content: 'Order: {{order_no.DATA}}\nCarrier: {{carrier.DATA}}\nTracking number: {{tracking_no.DATA}}',
    fallback: 'Your order {{order_no}} has shipped with {{carrier}}, tracking number {{tracking_no}}.',
  },
} satisfies Record<string, StackTemplate>;

export interface Demo {
  config: Config;
  emulator: EmulatorHandle;
  /** Once wxreach listens: point the emulator's pushes at it, stage the scenario, print the walk-through. */
  ready(serviceUrl: string): Promise<void>;
  close(): Promise<void>;
}

/** The demo's notices without a receipt fall back after this long (so the console shows them within a minute). */
const DEMO_RECEIPT_TIMEOUT_SECONDS = 30;

/**
 * The demo's webhook receiver: accepts every event except `notification.failed` (answered 503), so
 * the console's webhook page shows deliveries of both kinds and a retry button.
 */
async function startDemoReceiver(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const failed = Buffer.concat(chunks).toString('utf8').includes('"type":"notification.failed"');
      res.writeHead(failed ? 503 : 204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/demo-webhooks`, server };
}

/**
 * Demo mode (no WECHAT_APPID): the built-in emulator stands in for WeChat, with one follower and
 * two templates, so a first `npm start` shows a fallback happen; the demo also enqueues one
 * notice of each outcome, so every panel of the console has something to show.
 */
export async function startDemo(config: Config): Promise<Demo> {
  const receiver = await startDemoReceiver();
  const { emulator, config: accountConfig } = await startEmulatedAccount(
    { account: DEMO_ACCOUNT, templates: DEMO_TEMPLATES, users: [DEMO_USER], emulator: { port: Number(process.env.EMULATOR_PORT ?? 4000) } },
    config,
  );
  const demoConfig: Config = {
    ...accountConfig,
    receipt: { ...accountConfig.receipt, timeoutSeconds: DEMO_RECEIPT_TIMEOUT_SECONDS },
    webhooks: { ...accountConfig.webhooks, allowPrivate: true, endpoints: [{ url: receiver.url, secret: `whsec_${randomBytes(32).toString('base64')}` }] },
  };
  return {
    config: demoConfig,
    emulator,
    async ready(serviceUrl) {
      wirePushes(emulator, serviceUrl);
      emulator.control.deleteTemplate(DEMO_TEMPLATES.order_shipped.id);
      // The user wrote to the account, so the customer-service window is open (5 messages / 48 h).
      await emulator.control.userSendsText(DEMO_USER, 'hello');
      const apiKey = config.apiKeys.length > 0 ? parseApiKey(config.apiKeys[0]).key : undefined;
      await enqueueOutcomeMix({ url: serviceUrl, apiKey }, emulator.control).catch((err: Error) => console.warn(`demo: the sample notices could not be enqueued: ${err.message}`));
      const body = JSON.stringify({ openid: DEMO_USER, template: 'order_shipped', data: { order_no: 'A1001', carrier: 'SF Express', tracking_no: 'SF1234567890' } });
      console.log(
        [
          '',
          'wxreach demo mode (no WECHAT_APPID): WeChat is the built-in emulator at ' + emulator.url,
          `The template "order_shipped" was deleted on the WeChat side. Enqueue a notification for it:`,
          '',
          `  curl -s -X POST ${serviceUrl}/v1/notifications -H 'content-type: application/json' -d '${body}'`,
          '',
          'Then read its status (fallback_sent, with the history) and the text that reached the user:',
          '',
          `  curl -s ${serviceUrl}/v1/notifications/<id from the answer>`,
          `  curl -s ${emulator.url}/_emulator/users/${DEMO_USER}/inbox`,
          '',
          `The console: ${serviceUrl}/console (one notice of each outcome is already there)`,
          config.apiKeys.length === 0 ? '  sign in with any text: WXREACH_API_KEYS is not set, so the API is open' : '  sign in with one of WXREACH_API_KEYS',
          '',
        ].join('\n'),
      );
    },
    async close() {
      await emulator.close();
      receiver.server.closeAllConnections();
      await new Promise<void>((resolve) => receiver.server.close(() => resolve()));
    },
  };
}
