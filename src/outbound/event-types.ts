/**
 * The status webhooks' events, named after the statuses (one vocabulary in the API, the logs and
 * the webhooks): a notice arriving in a status the business acts on, a template becoming unusable
 * or usable again, a merchant revoking the platform, an endpoint switched off.
 */
export const WEBHOOK_EVENT_TYPES = [
  'notification.delivered',
  'notification.fallback_sent',
  'notification.awaiting_interaction',
  'notification.failed',
  'template.invalid',
  'template.valid',
  'account.unauthorized',
  'webhook.endpoint_disabled',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const isWebhookEventType = (type: string): type is WebhookEventType => (WEBHOOK_EVENT_TYPES as readonly string[]).includes(type);
