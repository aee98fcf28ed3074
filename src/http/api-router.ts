import express, { Router } from 'express';
import { IdempotencyConflictError, UnknownTemplateError, type Notifications } from '../delivery/notifications';
import type { NotificationRequest } from '../delivery/notification';
import type { TemplateRegistry } from '../delivery/template-registry';
import { bearerAuth } from './auth';
import { BODY_LIMIT_BYTES } from './body-limit';
import { HttpError } from './errors';
import { fieldErrors, notificationBody } from './notification-schema';

export interface ApiDeps {
  notifications: Notifications;
  templates: TemplateRegistry;
  apiKeys: readonly string[];
  /** Called after a notification is accepted, so the work loop picks it up at once. */
  onAccepted?: () => void;
}

/** The business API under /v1. */
export function apiRouter(deps: ApiDeps): Router {
  const router = Router();
  router.use(bearerAuth(deps.apiKeys));
  router.use(express.json({ limit: BODY_LIMIT_BYTES, strict: true }));

  router.post('/notifications', async (req, res) => {
    if (!req.is('application/json')) throw new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
    const parsed = notificationBody.safeParse(req.body);
    if (!parsed.success) throw new HttpError(400, 'invalid_request', 'the body does not match the notification schema', fieldErrors(parsed.error));
    const key = req.get('idempotency-key');
    if (key !== undefined && !/^[\x21-\x7e]{1,200}$/.test(key)) {
      throw new HttpError(400, 'invalid_request', 'Idempotency-Key must be 1-200 printable ASCII characters', [{ field: 'Idempotency-Key', message: 'invalid' }]);
    }
    const body = parsed.data;
    const request: NotificationRequest = {
      ...body,
      data: Object.fromEntries(Object.entries(body.data).map(([k, v]) => [k, typeof v === 'string' ? { value: v } : v])),
    };
    try {
      const result = await deps.notifications.accept(request, res.locals.client as string, key);
      if (result.replayed) res.set('Idempotent-Replayed', 'true');
      else deps.onAccepted?.();
      res.status(202).json({ id: result.id, status: result.status });
    } catch (err) {
      if (err instanceof UnknownTemplateError) throw new HttpError(400, 'unknown_template', err.message, [{ field: 'template', message: err.message }]);
      if (err instanceof IdempotencyConflictError) throw new HttpError(409, 'idempotency_conflict', err.message, { id: err.existingId });
      throw err;
    }
  });

  router.get('/notifications/:id', async (req, res) => {
    // Another client's notification answers exactly as an unknown id does.
    const n = /^n[0-9a-f]{24}$/.test(req.params.id) ? await deps.notifications.get(req.params.id, res.locals.client as string) : null;
    if (!n) throw new HttpError(404, 'not_found', `no notification ${req.params.id}`);
    res.json({
      id: n.id,
      status: n.status,
      openid: n.openid,
      template: n.template,
      ...(n.templateId ? { templateId: n.templateId } : {}),
      ...(n.msgid ? { msgid: n.msgid } : {}),
      ...(n.channel ? { channel: n.channel } : {}),
      ...(n.reason ? { reason: n.reason } : {}),
      ...(n.text ? { text: n.text } : {}),
      history: n.history,
    });
  });

  router.get('/templates', async (_req, res) => {
    res.json({ templates: await deps.templates.overview() });
  });

  return router;
}
