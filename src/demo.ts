import type { Config } from './config/schema';
import type { EmulatorHandle } from './emulator';
import { DEMO_ACCOUNT } from './emulator/options';
import { startEmulatedAccount, wirePushes, type StackTemplate } from './stack';

export const DEMO_USER = 'oDEMO_user_0001';

/** Demo templates: "order_paid" works, "order_shipped" is deleted on the WeChat side after start-up. */
const TEMPLATES = {
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

/**
 * Demo mode (no WECHAT_APPID): the built-in emulator stands in for WeChat, with one follower and
 * two templates, so a first `npm start` shows a fallback happen.
 */
export async function startDemo(config: Config): Promise<Demo> {
  const { emulator, config: demoConfig } = await startEmulatedAccount(
    { account: DEMO_ACCOUNT, templates: TEMPLATES, users: [DEMO_USER], emulator: { port: Number(process.env.EMULATOR_PORT ?? 4000) } },
    config,
  );
  return {
    config: demoConfig,
    emulator,
    async ready(serviceUrl) {
      wirePushes(emulator, serviceUrl);
      emulator.control.deleteTemplate(TEMPLATES.order_shipped.id);
      // The user wrote to the account, so the customer-service window is open (5 messages / 48 h).
      await emulator.control.userSendsText(DEMO_USER, 'hello');
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
        ].join('\n'),
      );
    },
    close: () => emulator.close(),
  };
}
