import { batchEnvelope, MAX_BATCH } from './schemas/notifications';
import express, { Router } from 'express';
import type { Logger } from '../log/logger';
import { StoreUnavailableError } from '../store/unavailable';
import { BATCH_BODY_LIMIT_BYTES } from './body-limit';
import { HttpError } from './errors';
import { requesterOf, type ErrorBody, type NotificationIntake, type SentKey } from './notification-intake';
import { fieldErrors } from './notification-schema';

/** What the batch answers for an item, in the order sent. */
export type BatchResult = { status: 202; id: string } | { status: 400 | 403 | 409 | 500 | 503; error: ErrorBody };

const unavailable: BatchResult = { status: 503, error: { code: 'store_unavailable', message: 'the store cannot be reached; retry this item later (with the same idempotencyKey)' } };
const internal: BatchResult = { status: 500, error: { code: 'internal', message: 'internal error; this item can be retried (with the same idempotencyKey)' } };

/**
 * POST /v1/notifications/batch → 207 `{ results }`: each item is accepted or refused exactly as a
 * single POST /v1/notifications would be, the items of one call stored together (those of one
 * account's shard in one step: NotificationIntake.acceptAll). When the store cannot be reached,
 * the items not stored answer 503; when none was stored, the whole call answers 503 like any other
 * call. An item that meets a fault of wxreach answers 500 and the others go on.
 */
export function batchRoute(intake: NotificationIntake, onAccepted: () => void, log: Logger): Router {
  const router = Router();
  router.post('/notifications/batch', express.json({ limit: BATCH_BODY_LIMIT_BYTES, strict: true }), async (req, res) => {
    if (!req.is('application/json')) throw new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
    if (req.get('idempotency-key') !== undefined) {
      throw new HttpError(400, 'invalid_request', 'a batch has no Idempotency-Key header: give each notification its own "idempotencyKey"', [
        { field: 'Idempotency-Key', message: 'not taken here' },
      ]);
    }
    const parsed = batchEnvelope.safeParse(req.body);
    if (!parsed.success) throw new HttpError(400, 'invalid_request', `the body must be { "notifications": [ 1 to ${MAX_BATCH} notifications ] }`, fieldErrors(parsed.error));
    const items = parsed.data.notifications;
    const outcomes = await intake.acceptAll(requesterOf(res), items.map(withOwnKey));
    let storeAway: StoreUnavailableError | null = null;
    let stored = 0;
    const results = outcomes.map((outcome, i): BatchResult => {
      if (outcome.status === 'fulfilled') {
        const result = outcome.value;
        if (result.status !== 202) return result;
        stored += 1;
        return { status: 202, id: result.id };
      }
      const err = outcome.reason as unknown;
      if (err instanceof StoreUnavailableError) {
        storeAway = err;
        return unavailable;
      }
      log.error('batch item failed', { item: i, err });
      return internal;
    });
    if (storeAway && stored === 0) throw storeAway;
    if (stored > 0) onAccepted();
    res.status(207).json({ results });
  });
  return router;
}

/** One item: its idempotency key taken out, the rest is a notification body. */
function withOwnKey(item: unknown): { body: unknown; key?: SentKey } {
  if (typeof item !== 'object' || item === null || Array.isArray(item) || !Object.hasOwn(item, 'idempotencyKey')) return { body: item };
  const { idempotencyKey: key, ...body } = item as Record<string, unknown>;
  return { body, key: { value: key, field: 'idempotencyKey' } };
}
