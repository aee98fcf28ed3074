import type { Notification } from '../delivery/notification';
import { unpackCall } from '../delivery/wechat-call';

/**
 * The GET view of a notification (the API's, the webhooks' and the console's). `rendered`, when
 * known, is its template message as WeChat shows it (GET of one notice only).
 */
export function notificationView(n: Notification, rendered?: string): Record<string, unknown> {
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
    ...(n.status === 'awaiting_interaction' && n.parkedUntil !== undefined ? { parkedUntil: new Date(n.parkedUntil).toISOString() } : {}),
    ...(rendered !== undefined ? { rendered } : {}),
    history: n.history.map(({ call, ...entry }) => (call === undefined ? entry : { ...entry, call: unpackCall(call) })),
  };
}
