import { webhookRouter, type WebhookRouterDeps } from '../../src/http/webhook-router';
import { spawnSync } from 'node:child_process';
import { Webhook } from 'standardwebhooks';
import { z } from 'zod';
import type { ApiAccounts } from '../../src/http/api-router';
import { createApp } from '../../src/http/app';
import { apiKeySet } from '../../src/http/auth';
import { componentApiRouter } from '../../src/http/component-router';
import { openApiDocument } from '../../src/http/openapi';
import type { WechatEdgeDeps } from '../../src/http/wechat-router';
import type { MetricsEndpoint } from '../../src/metrics/metrics';
import type { Platform } from '../../src/wechat/component/platform';
import { capturedLogger } from '../helpers/logs';
import { notificationBody } from '../../src/http/notification-schema';
import { ERROR_CODES } from '../../src/http/schemas/errors';
import { batchEnvelope, batchItem, MAX_BATCH } from '../../src/http/schemas/notifications';
import { endpointRecoverQuery, WEBHOOK_EVENT_TYPES, webhookEndpointCreate, webhookSecret } from '../../src/http/schemas/webhooks';
import { DocumentSchemas, schemaProblems } from '../helpers/openapi';
import { ROOT, sourceFiles, withoutComments } from '../helpers/source-files';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- a JSON document read field by field

const doc = openApiDocument() as Json;
const copy = (): Json => JSON.parse(JSON.stringify(doc)) as Json;

/** @seriousme/openapi-schema-validator is ESM only: it runs in its own node process. */
function validateOpenApi(document: unknown): { valid: boolean; errors?: unknown } {
  const script = `import { Validator } from '@seriousme/openapi-schema-validator';
let text = ''; for await (const chunk of process.stdin) text += chunk;
const validator = new Validator();
const result = await validator.validate(JSON.parse(text));
console.log(JSON.stringify({ ...result, version: validator.version }));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, input: JSON.stringify(document), encoding: 'utf8' });
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout) as { valid: boolean; errors?: unknown };
}

const operations = () =>
  Object.entries(doc.paths as Json).flatMap(([path, item]) => Object.entries(item as Json).map(([method, op]) => ({ path, method, op: op as Json })));

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 by @seriousme/openapi-schema-validator, which refuses a broken one', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(validateOpenApi(doc)).toEqual({ valid: true, version: '3.1' });
    const broken = copy();
    broken.paths['/v1/accounts'].get.responses = { ok: {} };
    expect(validateOpenApi(broken).valid).toBe(false);
  });

  it('holds only JSON Schema 2020-12 with known keywords (a wrong type or a misspelt keyword is caught)', () => {
    expect(schemaProblems(doc)).toEqual([]);
    const wrongType = copy();
    wrongType.components.schemas.Notification.type = 'record';
    expect(schemaProblems(wrongType).join('\n')).toMatch(/Notification\/type/);
    const misspelt = copy();
    misspelt.paths['/v1/accounts'].get.responses['200'].content['application/json'].schema = { type: 'string', maxLenght: 3 };
    expect(schemaProblems(misspelt)).toEqual([expect.stringMatching(/get \/v1\/accounts 200 .*unknown keyword: "maxLenght"/)]);
  });

  it('describes the request body with the schema the route validates with, which agrees with zod on what it can express', () => {
    const generated = z.toJSONSchema(notificationBody, { io: 'input' }) as Json;
    delete generated.$schema;
    expect(doc.components.schemas.NotificationRequest).toEqual(generated);
    expect(doc.paths['/v1/notifications'].post.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/NotificationRequest' });

    const schemas = new DocumentSchemas(doc);
    const base = { openid: 'oUSER_0001', template: 'order_paid', data: { order_no: 'A1001', amount: { value: '39.80', color: '#173177' } } };
    const bodies: Array<[string, unknown, boolean]> = [
      ['the README example', { ...base, account: 'wx0123456789abcdef', url: 'https://shop.example/orders/A1001', miniprogram: { appid: 'wx0123456789abcdef', pagepath: 'pages/order?id=A1001' }, fallbackText: 'Paid.' }, true],
      ['no openid', { template: 'order_paid', data: base.data }, false],
      ['an unknown field', { ...base, priority: 'high' }, false],
      ['a field name with a dot', { ...base, data: { 'order.no': 'A1' } }, false],
      ['a colour that is no colour', { ...base, data: { amount: { value: '1', color: 'red' } } }, false],
      ['an account that is no appid', { ...base, account: 'shop-a' }, false],
      ['a value over 1000 characters', { ...base, data: { note: 'x'.repeat(1001) } }, false],
    ];
    for (const [what, body, valid] of bodies) {
      expect([what, notificationBody.safeParse(body).success]).toEqual([what, valid]);
      expect([what, schemas.problems(['components', 'schemas', 'NotificationRequest'], body).length === 0]).toEqual([what, valid]);
    }
  });

  it('lists, for every operation, its error codes by status: 401 for a missing key and 503 with Retry-After', () => {
    for (const { path, method, op } of operations()) {
      const where = `${method} ${path}`;
      expect([where, op.responses['401']?.content['application/json'].schema.properties.error.properties.code.enum]).toEqual([where, ['unauthorized']]);
      expect([where, Object.keys(op.responses['503']?.headers ?? {})]).toEqual([where, ['Retry-After']]);
      for (const [status, answer] of Object.entries(op.responses as Record<string, Json>)) {
        if (Number(status) < 400) continue;
        const codes = answer.content['application/json'].schema.properties.error.properties.code.enum as Array<keyof typeof ERROR_CODES>;
        expect([where, codes.map((c) => ERROR_CODES[c][0])]).toEqual([where, codes.map(() => Number(status))]);
      }
    }
    expect(doc.paths['/v1/notifications'].post.responses['409'].description).toMatch(/idempotency_conflict.*account_unauthorized|account_unauthorized.*idempotency_conflict/);
    expect(doc.paths['/v1/notifications'].post.responses['413']).toBeDefined();
    expect(doc.paths['/v1/notifications'].post.responses['415']).toBeDefined();
  });

  it('every error the code raises is in the catalogue with the status it is raised with', () => {
    const raised = sourceFiles('src').flatMap((f) => [...withoutComments(f.text).matchAll(/new HttpError\(\s*(\d{3}),\s*'([a-z_]+)'/g)].map((m) => `${m[2]} ${m[1]}`));
    expect(raised.length).toBeGreaterThan(15);
    const catalogue = Object.entries(ERROR_CODES).map(([code, [status]]) => `${code} ${status}`);
    expect([...new Set(raised)].filter((r) => !catalogue.includes(r))).toEqual([]);
  });

  it('documents every /v1 route the app serves (in third-party platform mode, which has the most)', () => {
    // Routes are only registered here: nothing is called, so the parts the handlers need are left out.
    const app = createApp({
      api: { accounts: {} as ApiAccounts, accountOfId: () => null, keys: apiKeySet([]), more: [componentApiRouter({} as Platform), webhookRouter({} as WebhookRouterDeps)], log: capturedLogger().log },
      wechat: {} as WechatEdgeDeps,
      log: capturedLogger().log,
      metrics: {} as MetricsEndpoint,
      readiness: async () => ({ ready: true, detail: {} }),
    });
    interface Layer {
      rawPath?: string;
      route?: { path: string | string[]; methods: Record<string, boolean> };
      handle: { stack?: Layer[] };
    }
    const routes = (stack: Layer[], prefix: string): string[] =>
      stack.flatMap((layer) => {
        const { route } = layer;
        if (route) return [route.path].flat().flatMap((p) => Object.keys(route.methods).map((m) => `${m} ${prefix}${p}`));
        const at = prefix + (layer.rawPath && layer.rawPath !== '/' ? layer.rawPath : '');
        return layer.handle.stack ? routes(layer.handle.stack, at) : [];
      });
    const served = routes((app.router as unknown as { stack: Layer[] }).stack, '');
    expect(served).toEqual(expect.arrayContaining(['get /openapi.json', 'post /v1/notifications', 'get /v1/notifications/:id', 'get /v1/component/authorize-url']));
    const documented = operations().map(({ path, method }) => `${method} ${path.replace(/\{(\w+)\}/g, ':$1')}`);
    expect(served.filter((r) => r.includes(' /v1/') && !documented.includes(r))).toEqual([]);
  });

  it('documents the routes being built: batch (207), webhook endpoints and deliveries', () => {
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        '/v1/accounts',
        '/v1/component/authorize-url',
        '/v1/component/recover',
        '/v1/notifications',
        '/v1/notifications/batch',
        '/v1/notifications/{id}',
        '/v1/stats',
        '/v1/stats/callbacks',
        '/v1/templates',
        '/v1/webhook-deliveries',
        '/v1/webhook-deliveries/{id}',
        '/v1/webhook-deliveries/{id}/retry',
        '/v1/webhook-endpoints',
        '/v1/webhook-endpoints/{id}',
        '/v1/webhook-endpoints/{id}/recover',
      ].sort(),
    );
    expect(Object.keys(doc.paths['/v1/notifications/batch'].post.responses)).toContain('207');
    expect(Object.keys(doc.paths['/v1/webhook-endpoints'])).toEqual(['post', 'get']);
    expect(Object.keys(doc.paths['/v1/webhook-endpoints/{id}'])).toEqual(['get', 'delete']);
    expect(doc.paths['/v1/webhook-deliveries'].get.parameters.map((p: Json) => [p.name, p.schema.enum ?? p.schema.type])).toEqual([
      ['status', ['pending', 'succeeded', 'failed']],
      ['endpoint', 'string'],
      ['notification', 'string'],
      ['limit', 'integer'],
      ['after', 'string'],
    ]);
  });

  it('has a `webhooks` entry per event type: a signed POST of { type, timestamp, data }, data the GET view for notification events', () => {
    expect(Object.keys(doc.webhooks)).toEqual([...WEBHOOK_EVENT_TYPES]);
    const schemas = new DocumentSchemas(doc);
    for (const type of WEBHOOK_EVENT_TYPES) {
      const post = doc.webhooks[type].post as Json;
      expect(post.parameters.map((p: Json) => `${p.in} ${p.name}`)).toEqual(['header webhook-id', 'header webhook-timestamp', 'header webhook-signature']);
      const payload = doc.components.schemas[post.requestBody.content['application/json'].schema.$ref.split('/').at(-1)];
      expect(payload.required).toEqual(['type', 'timestamp', 'data']);
      expect(payload.properties.type.const).toBe(type);
      if (type.startsWith('notification.')) expect(payload.properties.data).toEqual({ $ref: '#/components/schemas/Notification' });
      expect(Object.keys(post.responses).sort()).toEqual(['2XX', '410', 'default']);
    }
    const delivered = {
      type: 'notification.delivered',
      timestamp: '2026-11-25T10:00:05.000Z',
      data: { id: 'n0123.wx5a7b9c1d3e5f7a9b', account: 'wx5a7b9c1d3e5f7a9b', status: 'delivered', openid: 'oUSER_1', template: 'order_paid', history: [{ at: '2026-11-25T10:00:00.000Z', status: 'queued', detail: 'accepted' }] },
    };
    const at = ['webhooks', 'notification.delivered', 'post', 'requestBody', 'content', 'application/json', 'schema'];
    expect(schemas.problems(at, delivered)).toEqual([]);
    expect(schemas.problems(at, { ...delivered, data: { ...delivered.data, status: 'sent' } })).not.toEqual([]);
  });
});

describe('the schemas of the routes being built', () => {
  it('batch: 1 to 1000 notifications, each checked on its own with its own idempotencyKey', () => {
    const item = { openid: 'oUSER_0001', template: 'order_paid', data: { a: '1' } };
    expect(batchEnvelope.safeParse({ notifications: [item, { bogus: true }] }).success).toBe(true);
    expect(batchEnvelope.safeParse({ notifications: [] }).success).toBe(false);
    expect(batchEnvelope.safeParse({ notifications: Array.from({ length: MAX_BATCH + 1 }, () => item) }).success).toBe(false);
    expect(batchEnvelope.safeParse({ notifications: [item], extra: 1 }).success).toBe(false);
    expect(batchItem.safeParse({ ...item, idempotencyKey: 'order-1001' }).success).toBe(true);
    expect(batchItem.safeParse({ ...item, idempotencyKey: 'has space' }).success).toBe(false);
    expect(batchItem.safeParse({ bogus: true }).success).toBe(false);
  });

  it('webhook secrets are whsec_ and base64 of 24 to 64 bytes, the form the standardwebhooks package takes', () => {
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    expect(webhookSecret.safeParse(secret).success).toBe(true);
    expect(() => new Webhook(secret)).not.toThrow();
    expect(webhookSecret.safeParse(`whsec_${Buffer.alloc(16, 7).toString('base64')}`).success).toBe(false);
    expect(webhookSecret.safeParse(`whsec_${Buffer.alloc(65, 7).toString('base64')}`).success).toBe(false);
    expect(webhookSecret.safeParse(Buffer.alloc(32, 7).toString('base64')).success).toBe(false);
  });

  it('endpoints take known event types and appids; recovery takes a time', () => {
    expect(webhookEndpointCreate.safeParse({ url: 'https://crm.example/hooks', events: ['notification.failed'], accounts: ['wx0123456789abcdef'] }).success).toBe(true);
    expect(webhookEndpointCreate.safeParse({ url: 'https://crm.example/hooks', events: ['notification.sent'] }).success).toBe(false);
    // the scheme and the addresses are the route's address rules, checked after the schema (test/integration/webhooks-api.test.ts)
    expect(webhookEndpointCreate.safeParse({ url: 'https://crm.example/hooks', accounts: [] }).success).toBe(false);
    expect(endpointRecoverQuery.safeParse({ since: '2026-11-25T10:00:00.000Z' }).success).toBe(true);
    expect(endpointRecoverQuery.safeParse({ since: 'yesterday' }).success).toBe(false);
  });
});
