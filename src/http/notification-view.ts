import type { Notification } from '../delivery/notification';

/** The GET view of a notification (the API's, the webhooks' and the console's). */
export function notificationView(n: Notification): Record<string, unknown> {
  return {
    id: n.id,
    account: n.account,
    status: n.status,
    openid: n.openid,
    template: n.template,
    ...(n.templateId ? { templateId: n.templateId } : {}),
    ...(n.msgid ? { msgid: n.msgid } : {}),
    ...(n.channel ? { channel: n.channel } : {}),
    ...(n.reason ? { reason: n.reason } : {}),
    ...(n.text ? { text: n.text } : {}),
    history: n.history,
  };
}
