import { z } from 'zod';
import { appid, isoTime } from './common';
import { notificationView } from './notifications';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../../outbound/event-types';

/**
 * Status webhooks (Standard Webhooks): the event types and payloads wxreach sends, and the bodies
 * of /v1/webhook-endpoints and /v1/webhook-deliveries. The routes validate with these schemas and
 * the OpenAPI document is generated from them.
 */

export { WEBHOOK_EVENT_TYPES, type WebhookEventType };

export const webhookEventType = z.enum(WEBHOOK_EVENT_TYPES);

/** A payload is at most this large (the `data` of a notification is its GET view). */
export const WEBHOOK_PAYLOAD_LIMIT_BYTES = 20 * 1024;

/** Raw secret bytes: 24 to 64 random bytes. */
const SECRET_BYTES = { min: 24, max: 64 };

/** `whsec_` + base64 of the raw secret: the form Standard Webhooks libraries take. */
export const webhookSecret = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, 'must be whsec_ followed by base64')
  .refine((s) => {
    const bytes = Buffer.from(s.slice('whsec_'.length), 'base64').length;
    return bytes >= SECRET_BYTES.min && bytes <= SECRET_BYTES.max;
  }, `the base64 part must hold ${SECRET_BYTES.min} to ${SECRET_BYTES.max} bytes`);

/** POST /v1/webhook-endpoints (the route validates with it; the address rules are checked after it). */
export const webhookEndpointCreate = z
  .object({
    url: z
      .string()
      .max(2000)
      .describe('https, resolving to public addresses (checked now and at each delivery); http and private addresses only with `webhooks.allowPrivate`'),
    events: z
      .array(webhookEventType)
      .min(1)
      .refine((e) => new Set(e).size === e.length, 'each type once')
      .optional()
      .describe('only these event types; every type when left out'),
    accounts: z
      .array(appid)
      .min(1)
      .refine((a) => new Set(a).size === a.length, 'each account once')
      .optional()
      .describe('only events of these accounts (each one the key may use); every account of the key when left out'),
    description: z.string().max(200).optional().describe('a note of your own'),
  })
  .strict();

export const webhookEndpoint = z.object({
  id: z.string(),
  url: z.string(),
  description: z.string().optional(),
  source: z.enum(['config', 'api']).describe('config: from the config file (it cannot be deleted through the API); api: registered by this key'),
  events: z.array(webhookEventType).nullable().describe('null: every type'),
  accounts: z.array(z.string()).nullable().describe('null: every account of the key'),
  createdAt: isoTime.nullable().describe('null for an endpoint of the config'),
  disabled: z
    .object({ at: isoTime, reason: z.string().describe('gone: it answered 410; failing: every attempt failed for 5 days'), message: z.string() })
    .nullable()
    .describe('null while enabled; a disabled endpoint keeps its deliveries until recovered'),
  failingSince: isoTime.nullable().describe('the first failed attempt since the last success; null when the latest attempt succeeded'),
});

export type WebhookEndpointView = z.infer<typeof webhookEndpoint>;

/** 201 of POST /v1/webhook-endpoints: the only answer that shows the secret. */
export const webhookEndpointCreated = webhookEndpoint.extend({ secret: webhookSecret.describe('shown once: verify the signatures with it') });

export const webhookEndpointList = z.object({ endpoints: z.array(webhookEndpoint).describe('the endpoints of this API key (and, for a key of every account, those of the config)') });

/** POST /v1/webhook-endpoints/:id/recover?since=… */
export const endpointRecoverQuery = z.object({ since: isoTime.describe('resend every delivery to this endpoint that failed since then, with the same webhook-id') });

export const endpointRecovered = z.object({
  endpoint: z.string(),
  since: isoTime,
  deliveries: z.number().int().min(0).describe('deliveries scheduled again'),
});

export type EndpointRecovered = z.infer<typeof endpointRecovered>;

/** `failed`: the latest attempt failed, whether a retry is pending or not. */
export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;

/** GET /v1/webhook-deliveries?status=…&endpoint=…&notification=…&limit=…&after=… */
export const deliveriesQuery = z
  .object({
    status: z.enum(DELIVERY_STATUSES).optional().describe('failed: the latest attempt failed, retry pending or not'),
    endpoint: z.string().max(60).optional().describe('an endpoint id'),
    notification: z.string().max(100).optional().describe('only the deliveries of this notification (all of them: no paging)'),
    limit: z.coerce.number().int().min(1).max(100).default(50).describe('deliveries per page'),
    after: z
      .string()
      .regex(/^evt_[0-9a-f]{28}\.ep_[A-Za-z0-9_]{1,48}$/, "must be a previous page's `next`")
      .optional()
      .describe("a previous page's `next`"),
  })
  .strict()
  .refine((q) => q.after === undefined || q.notification === undefined, { message: 'a notification has one page: no after', path: ['after'] });

const deliveryAttempt = z.object({
  at: isoTime,
  ms: z.number().int().min(0).describe('how long it took'),
  status: z.number().int().optional().describe('the HTTP status answered; absent when none came'),
  error: z.string().optional().describe('why it failed'),
});

export type DeliveryAttemptView = z.infer<typeof deliveryAttempt>;

export const webhookDelivery = z.object({
  id: z.string().describe('the delivery: `<webhookId>.<endpoint>`'),
  endpoint: z.string(),
  webhookId: z.string().describe('the webhook-id header: the same on every attempt'),
  type: webhookEventType,
  account: z.string().nullable().describe('the account of the event; null for the deployment’s own'),
  subject: z.string().describe('what it is about (a notification id, `template:<id>`, `account:<appid>`, an endpoint id): the deliveries of one subject go out in order'),
  status: z.enum(DELIVERY_STATUSES),
  attempts: z.number().int().min(0),
  nextAttemptAt: isoTime.nullable().describe('null: no attempt is scheduled'),
  givenUp: z.boolean().describe('every scheduled attempt failed: none follows'),
  createdAt: isoTime,
  lastAttempt: deliveryAttempt.nullable(),
  attemptLog: z.array(deliveryAttempt).optional().describe('GET of one delivery: the attempts kept, oldest first'),
  payload: z.unknown().optional().describe("GET of one delivery to an endpoint of the key's own: the body sent (an event of the webhooks section)"),
});

export type WebhookDeliveryView = z.infer<typeof webhookDelivery>;

export const webhookDeliveryList = z.object({
  deliveries: z.array(webhookDelivery).describe('newest first'),
  next: z.string().nullable().describe('pass as `after` for the next page; null when there is no more (a page may be short and still have a next)'),
});

/** 202 of POST /v1/webhook-deliveries/:id/retry. */
export const deliveryQueued = z.object({ id: z.string(), status: z.literal('queued') });

export type DeliveryQueued = z.infer<typeof deliveryQueued>;

/** `template.invalid` / `template.valid`. */
export const templateValidity = z.object({
  account: z.string(),
  templateId: z.string(),
  valid: z.boolean(),
  since: isoTime.describe('since when `valid` holds'),
  reason: z.string().nullable().describe('why it is invalid'),
});

export type TemplateValidity = z.infer<typeof templateValidity>;

/** `account.unauthorized`. */
export const accountUnauthorized = z.object({ appid: z.string(), kind: z.literal('authorizer'), state: z.literal('unauthorized') });

export type AccountUnauthorized = z.infer<typeof accountUnauthorized>;

/** `{ type, timestamp, data }`, with `data` the same view as GET at the time of the event. */
const event = <T extends WebhookEventType, D extends z.ZodType>(type: T, data: D, description: string) =>
  z.object({ type: z.literal(type), timestamp: isoTime.describe('when the event happened'), data }).describe(description);

/** The payload of each event type (`WEBHOOK_EVENTS[type].parse(payload)` checks one). */
export const WEBHOOK_EVENTS = {
  'notification.delivered': event('notification.delivered', notificationView, 'The receipt said success (or no receipt came and the policy assumes delivery).'),
  'notification.fallback_sent': event('notification.fallback_sent', notificationView, 'WeChat accepted the customer-service text or the passive reply (`channel` says which).'),
  'notification.awaiting_interaction': event('notification.awaiting_interaction', notificationView, 'The fallback text waits for the user to write: their customer-service window is closed.'),
  'notification.failed': event('notification.failed', notificationView, 'Neither path can reach the user; `reason` says why.'),
  'template.invalid': event('template.invalid', templateValidity, 'A template of an account stopped working; sends use the fallback text.'),
  'template.valid': event('template.valid', templateValidity, 'A template works again.'),
  'account.unauthorized': event('account.unauthorized', accountUnauthorized, 'A merchant revoked the platform’s authorisation: its open notifications end failed.'),
  'webhook.endpoint_disabled': event('webhook.endpoint_disabled', webhookEndpoint, 'An endpoint was disabled (it answered 410, or failed for 5 days); sent to the other endpoints.'),
} satisfies { [T in WebhookEventType]: z.ZodType };

