import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { projectRoot } from '../config/project-root';
import { notificationBody } from './notification-schema';
import { accountQuery, accountsAnswer, authorizeUrlAnswer, authorizeUrlQuery, recoverySummary, templatesAnswer } from './schemas/accounts';
import { idempotencyKey } from './schemas/common';
import { apiError, ERROR_CODES, errorBody, type ErrorCode } from './schemas/errors';
import { batchAnswer, batchRequest, MAX_BATCH, notificationAccepted, notificationView } from './schemas/notifications';
import { notificationSearchAnswer, notificationSearchQuery } from './schemas/notification-search';
import { callbackStatsAnswer, callbackStatsQuery, statsAnswer, statsQuery } from './schemas/stats';
import {
  deliveriesQuery,
  deliveryQueued,
  endpointRecovered,
  endpointRecoverQuery,
  WEBHOOK_EVENTS,
  WEBHOOK_EVENT_TYPES,
  WEBHOOK_PAYLOAD_LIMIT_BYTES,
  webhookDelivery,
  webhookDeliveryList,
  webhookEndpointCreate,
  webhookEndpointCreated,
  webhookEndpoint,
  webhookEndpointList,
  type WebhookEventType,
} from './schemas/webhooks';

/**
 * The OpenAPI 3.1 document served at GET /openapi.json. Every schema in it is generated with zod's
 * `z.toJSONSchema` from the schemas the routes validate with, so the description cannot drift from
 * what is enforced; this file only says which route takes and answers which schema.
 */

type Json = Record<string, unknown>;

/** Named schemas, as `components.schemas` holds them: requests as they are sent, answers as they come. */
const REQUESTS: Record<string, z.ZodType> = {
  NotificationRequest: notificationBody,
  BatchRequest: batchRequest,
  WebhookEndpointCreate: webhookEndpointCreate,
};

const eventComponent = (type: WebhookEventType) =>
  `${type
    .split(/[._]/)
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join('')}Event`;

const ANSWERS: Record<string, z.ZodType> = {
  Error: apiError,
  Notification: notificationView,
  NotificationAccepted: notificationAccepted,
  NotificationPage: notificationSearchAnswer,
  BatchAnswer: batchAnswer,
  Templates: templatesAnswer,
  Accounts: accountsAnswer,
  AuthorizeUrl: authorizeUrlAnswer,
  RecoverySummary: recoverySummary,
  WebhookEndpointCreated: webhookEndpointCreated,
  WebhookEndpointList: webhookEndpointList,
  EndpointRecovered: endpointRecovered,
  WebhookDelivery: webhookDelivery,
  WebhookDeliveryList: webhookDeliveryList,
  Stats: statsAnswer,
  CallbackStats: callbackStatsAnswer,
  DeliveryQueued: deliveryQueued,
  ...Object.fromEntries(WEBHOOK_EVENT_TYPES.map((t) => [eventComponent(t), WEBHOOK_EVENTS[t]])),
};

const ref = (name: string) => `#/components/schemas/${name}`;

/** A schema as the document holds it: OpenAPI 3.1 implies the dialect, and the `$id` zod adds only repeats where it is. */
function bare(schema: Json): Json {
  const rest = { ...schema };
  delete rest.$schema;
  delete rest.$id;
  return rest;
}

/** zod spells `format: date-time` out as a long regular expression too: the format says it. */
const conversion = {
  override: ({ jsonSchema }: { jsonSchema: { format?: string; pattern?: string } }) => {
    if (jsonSchema.format === 'date-time') delete jsonSchema.pattern;
  },
};

/** The named schemas as JSON Schema; a named schema inside another becomes a `$ref`. */
function components(named: Record<string, z.ZodType>, io: 'input' | 'output'): Record<string, Json> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(named)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { ...conversion, io, uri: ref }) as { schemas: Record<string, Json> };
  return Object.fromEntries(Object.entries(schemas).map(([id, s]) => [id, bare(s)]));
}

/** A `$ref` to a named schema, or the schema itself when it has no name. */
function schemaOf(schema: z.ZodType, io: 'input' | 'output'): Json {
  const named = Object.entries(io === 'input' ? REQUESTS : ANSWERS).find(([, s]) => s === schema);
  return named ? { $ref: ref(named[0]) } : bare(z.toJSONSchema(schema, { ...conversion, io }) as Json);
}

const json = (schema: z.ZodType, io: 'input' | 'output') => ({ 'application/json': { schema: schemaOf(schema, io) } });

/** The fields of a query (or headers) schema as OpenAPI parameters. */
function parameters(where: 'query' | 'header', fields: z.ZodObject): Json[] {
  const converted = z.toJSONSchema(fields, { ...conversion, io: 'input' }) as { properties: Record<string, Json>; required?: string[] };
  return Object.entries(converted.properties).map(([name, { description, ...schema }]) => ({
    name,
    in: where,
    required: converted.required?.includes(name) ?? false,
    ...(description ? { description } : {}),
    schema,
  }));
}

const pathId = (description: string): Json => ({ name: 'id', in: 'path', required: true, description, schema: { type: 'string' } });

const RETRY_AFTER = { description: 'seconds to wait before retrying (with store_unavailable)', schema: { type: 'integer', minimum: 1 } };

/** The error answers of `codes`, one per status, each listing its codes with what they mean. */
function errors(codes: readonly ErrorCode[]): Record<string, Json> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERROR_CODES[code][0], [...(byStatus.get(ERROR_CODES[code][0]) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      String(status),
      {
        description: list.map((c) => `\`${c}\`: ${ERROR_CODES[c][1]}`).join('; '),
        ...(list.includes('store_unavailable') ? { headers: { 'Retry-After': RETRY_AFTER } } : {}),
        content: json(errorBody(list as [ErrorCode, ...ErrorCode[]]), 'output'),
      },
    ]),
  );
}

/** Every /v1 route may answer these. */
const ALWAYS: ErrorCode[] = ['unauthorized', 'store_unavailable', 'internal'];
/** A route that reads a JSON body may answer these too. */
const BODY: ErrorCode[] = ['invalid_request', 'invalid_json', 'bad_request', 'body_too_large', 'unsupported_media_type'];
/** A third-party platform route: 404 when wxreach is not one, and WeChat's answers. */
const PLATFORM: ErrorCode[] = ['not_found', 'not_configured', 'busy', 'wechat_refused', 'wechat_unreachable', 'no_verify_ticket'];

interface Route {
  summary: string;
  description?: string;
  tag: string;
  parameters?: Json[];
  body?: z.ZodType;
  /** The success answer: status, what it is, and its schema (none: no body). */
  ok: [status: number, description: string, schema?: z.ZodType, headers?: Json];
  errors: ErrorCode[];
}

const operation = (id: string, r: Route): Json => ({
  operationId: id,
  summary: r.summary,
  ...(r.description ? { description: r.description } : {}),
  tags: [r.tag],
  ...(r.parameters ? { parameters: r.parameters } : {}),
  ...(r.body ? { requestBody: { required: true, content: json(r.body, 'input') } } : {}),
  responses: {
    [String(r.ok[0])]: { description: r.ok[1], ...(r.ok[3] ? { headers: r.ok[3] } : {}), ...(r.ok[2] ? { content: json(r.ok[2], 'output') } : {}) },
    ...errors([...new Set([...r.errors, ...ALWAYS])]),
  },
});

function paths(): Json {
  return {
    '/v1/notifications': {
      post: operation('sendNotification', {
        tag: 'notifications',
        summary: 'Send a notification: template message first, customer-service text as the fallback',
        description:
          '`account` may be left out when the API key can use only one account. `data` values are strings or `{ value, color }`. `fallbackText`, when given, is the exact text sent if the template path fails.',
        parameters: parameters('header', z.object({ 'Idempotency-Key': idempotencyKey.optional() })),
        body: notificationBody,
        ok: [202, 'accepted; follow it with GET /v1/notifications/{id} or the webhooks', notificationAccepted, { 'Idempotent-Replayed': { description: '`true` when an earlier call with this Idempotency-Key made it', schema: { type: 'string', enum: ['true'] } } }],
        errors: [...BODY, 'unknown_account', 'unknown_template', 'forbidden', 'account_unauthorized', 'idempotency_conflict'],
      }),
      // --- notice search (the console's too)
      get: operation('searchNotifications', {
        tag: 'notifications',
        summary: "An account's notifications by user, by a business field, or the parked ones",
        description:
          'Exactly one of `openid`, `status=awaiting_interaction` or `field` with `value`. A key reads its own notifications (and the Redis Stream’s); an operator key (`WXREACH_OPERATOR_KEYS`) every client’s. Pages with `next`.',
        parameters: parameters('query', notificationSearchQuery),
        ok: [200, 'a page of notifications', notificationSearchAnswer],
        errors: ['invalid_request', 'forbidden', 'not_found'],
      }),
    },
    '/v1/notifications/batch': {
      post: operation('sendNotificationBatch', {
        tag: 'notifications',
        summary: `Send up to ${MAX_BATCH} notifications in one call`,
        description:
          'Each notification is taken or refused on its own (one bad item never rejects the others), with its own optional `idempotencyKey`. The answer is 207 with one result per notification, in the order sent.',
        body: batchRequest,
        ok: [207, 'one result per notification, in the order sent', batchAnswer],
        errors: BODY,
      }),
    },
    '/v1/notifications/{id}': {
      get: operation('getNotification', {
        tag: 'notifications',
        summary: 'A notification, its status and history',
        parameters: [pathId('the id from POST /v1/notifications')],
        ok: [200, 'the notification', notificationView],
        errors: ['not_found'],
      }),
    },
    '/v1/templates': {
      get: operation('listTemplates', {
        tag: 'accounts',
        summary: "An account's templates: current id, validity and counts",
        parameters: parameters('query', accountQuery),
        ok: [200, 'the templates', templatesAnswer],
        errors: ['invalid_request', 'forbidden', 'not_found'],
      }),
    },
    '/v1/accounts': {
      get: operation('listAccounts', {
        tag: 'accounts',
        summary: 'The accounts the key may use, with their state',
        ok: [200, 'the accounts', accountsAnswer],
        errors: [],
      }),
    },
    '/v1/component/authorize-url': {
      get: operation('componentAuthorizeUrl', {
        tag: 'third-party platform',
        summary: 'A link a merchant opens to authorise the platform',
        description: 'Only when wxreach runs as a third-party platform (404 otherwise).',
        parameters: parameters('query', authorizeUrlQuery),
        ok: [200, 'the link', authorizeUrlAnswer],
        errors: ['invalid_request', ...PLATFORM],
      }),
    },
    '/v1/component/recover': {
      post: operation('componentRecover', {
        tag: 'third-party platform',
        summary: "Restore every merchant that authorises the platform from WeChat's authoriser list",
        description: 'Only when wxreach runs as a third-party platform (404 otherwise). May wait for WeChat to push a verify ticket.',
        ok: [200, 'what the recovery did', recoverySummary],
        errors: PLATFORM,
      }),
    },
    '/v1/webhook-endpoints': {
      post: operation('createWebhookEndpoint', {
        tag: 'webhooks',
        summary: 'Register a webhook endpoint (owned by this API key)',
        description: 'The answer is the only one that shows the signing secret.',
        body: webhookEndpointCreate,
        ok: [201, 'registered', webhookEndpointCreated],
        errors: [...BODY, 'unknown_account', 'forbidden', 'too_many_endpoints'],
      }),
      get: operation('listWebhookEndpoints', {
        tag: 'webhooks',
        summary: "This API key's webhook endpoints",
        ok: [200, 'the endpoints', webhookEndpointList],
        errors: [],
      }),
    },
    '/v1/webhook-endpoints/{id}': {
      get: operation('getWebhookEndpoint', {
        tag: 'webhooks',
        summary: 'One webhook endpoint (without its secret)',
        parameters: [pathId('the endpoint id')],
        ok: [200, 'the endpoint', webhookEndpoint],
        errors: ['not_found'],
      }),
      delete: operation('deleteWebhookEndpoint', {
        tag: 'webhooks',
        summary: 'Remove a webhook endpoint; nothing more is sent to it',
        parameters: [pathId('the endpoint id')],
        ok: [204, 'removed'],
        errors: ['not_found', 'config_endpoint'],
      }),
    },
    '/v1/webhook-endpoints/{id}/recover': {
      post: operation('recoverWebhookEndpoint', {
        tag: 'webhooks',
        summary: 'Resend what failed since a time (same webhook-id)',
        parameters: [pathId('the endpoint id'), ...parameters('query', endpointRecoverQuery)],
        ok: [202, 'scheduled again', endpointRecovered],
        errors: ['invalid_request', 'not_found'],
      }),
    },
    '/v1/webhook-deliveries': {
      get: operation('listWebhookDeliveries', {
        tag: 'webhooks',
        summary: "Deliveries to this key's endpoints",
        parameters: parameters('query', deliveriesQuery),
        ok: [200, 'the deliveries', webhookDeliveryList],
        errors: ['invalid_request'],
      }),
    },
    '/v1/webhook-deliveries/{id}': {
      get: operation('getWebhookDelivery', {
        tag: 'webhooks',
        summary: 'One delivery: its attempts and the body sent',
        parameters: [pathId('the delivery id')],
        ok: [200, 'the delivery', webhookDelivery],
        errors: ['not_found'],
      }),
    },
    '/v1/webhook-deliveries/{id}/retry': {
      post: operation('retryWebhookDelivery', {
        tag: 'webhooks',
        summary: 'Attempt a delivery again now',
        parameters: [pathId('the delivery id')],
        ok: [202, 'scheduled: attempted now, with the same webhook-id', deliveryQueued],
        errors: ['not_found', 'delivery_waiting'],
      }),
    },
    // --- statistics (the console's figures) ---
    '/v1/stats': {
      get: operation('getStats', {
        tag: 'statistics',
        summary: 'Notices counted per account, template and time bucket: totals, a time series and the funnel per template',
        description:
          'Exact counts, written with each status change. Figures cover the whole buckets (UTC) that overlap the range; counters that stay zero are left out.',
        parameters: parameters('query', statsQuery),
        ok: [200, 'the counts', statsAnswer],
        errors: ['invalid_request', 'forbidden', 'not_found'],
      }),
    },
    '/v1/stats/callbacks': {
      get: operation('getCallbackStats', {
        tag: 'statistics',
        summary: "How fast wxreach answered WeChat's pushes (WeChat waits 5 s), every instance, and the pushes by kind",
        parameters: parameters('query', callbackStatsQuery),
        ok: [200, 'the answers', callbackStatsAnswer],
        errors: ['invalid_request'],
      }),
    },
  };
}

const WEBHOOK_HEADERS: Json[] = [
  { name: 'webhook-id', in: 'header', required: true, description: 'the delivery id: the same on every retry (deduplicate with it)', schema: { type: 'string' } },
  { name: 'webhook-timestamp', in: 'header', required: true, description: 'seconds since the epoch when this attempt was signed; refuse ones more than 5 minutes off', schema: { type: 'string', pattern: '^\\d+$' } },
  {
    name: 'webhook-signature',
    in: 'header',
    required: true,
    description: '`v1,<base64 HMAC-SHA256 over "<webhook-id>.<webhook-timestamp>.<body>">` keyed with the base64-decoded part of the `whsec_` secret; space-separated when there are several',
    schema: { type: 'string' },
  },
];

/** The `webhooks` section: what wxreach POSTs to each endpoint, one entry per event type. */
function webhooks(): Json {
  return Object.fromEntries(
    WEBHOOK_EVENT_TYPES.map((type) => [
      type,
      {
        post: {
          operationId: `webhook.${type}`,
          summary: type,
          description: `${WEBHOOK_EVENTS[type].description} Signed per Standard Webhooks; the body is at most ${WEBHOOK_PAYLOAD_LIMIT_BYTES / 1024} KiB.`,
          tags: ['webhooks'],
          parameters: WEBHOOK_HEADERS,
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: ref(eventComponent(type)) } } } },
          responses: {
            '2XX': { description: 'accepted: the next event of this notification may follow' },
            '410': { description: 'the endpoint is disabled; nothing more is sent to it' },
            default: { description: 'retried (now, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; 15 s timeout); after 5 days of failures the endpoint is disabled' },
          },
        },
      },
    ]),
  );
}

function build(): Json {
  const version = (JSON.parse(readFileSync(path.join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  return {
    openapi: '3.1.0',
    info: {
      title: 'wxreach',
      version,
      summary: 'WeChat Official Account template notifications that reach their users',
      description:
        'Template message first, customer-service text as the fallback, parked until the user writes when their window is closed; for many accounts. Errors are `{ "error": { "code", "message", "details"? } }`.',
    },
    security: [{ apiKey: [] }],
    tags: [
      { name: 'notifications' },
      { name: 'accounts', description: 'accounts and their templates' },
      { name: 'third-party platform', description: 'merchants authorising the platform' },
      { name: 'webhooks', description: 'status webhooks (Standard Webhooks)' },
      { name: 'statistics', description: 'counts of notices and of the answers to WeChat' },
    ],
    paths: paths(),
    webhooks: webhooks(),
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'one of WXREACH_API_KEYS, or of WXREACH_OPERATOR_KEYS (which also read every client’s notifications)' } },
      schemas: { ...components(REQUESTS, 'input'), ...components(ANSWERS, 'output') },
    },
  };
}

let built: Json | undefined;

/** The document (built once: the schemas do not change while running). */
export function openApiDocument(): Json {
  built ??= build();
  return built;
}
