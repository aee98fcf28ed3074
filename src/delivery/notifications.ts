import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from '../log/logger';
import type { Metrics } from '../metrics/metrics';
import type { Store, TransitionOptions } from '../store/store';
import { fromFields, toFields, type Notification, type NotificationRequest } from './notification';
import { receiptOutcome } from '../wechat/push';
import type { Status } from './status';
import type { TemplateRegistry } from './template-registry';

export class UnknownTemplateError extends Error {
  constructor(readonly template: string) {
    super(`unknown template "${template}": use a name from the config's "templates" or a template id of the account`);
    this.name = 'UnknownTemplateError';
  }
}

export class IdempotencyConflictError extends Error {
  constructor(readonly existingId: string) {
    super('this Idempotency-Key was already used with a different body');
    this.name = 'IdempotencyConflictError';
  }
}

export interface AcceptResult {
  id: string;
  status: Status;
  /** True when the Idempotency-Key was seen before with the same body. */
  replayed: boolean;
}

const parkedKey = (openid: string) => `parked:${openid}`;

/** Stable JSON (sorted keys) so the same body always has the same fingerprint. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The notification records: accepting, reading, and the compare-and-set moves every other part
 * of delivery goes through (each one a history line and a log line).
 */
export class Notifications {
  constructor(
    private readonly store: Store,
    private readonly templates: TemplateRegistry,
    private readonly log: Logger,
    private readonly retentionSeconds: number,
    private readonly metrics: Pick<Metrics, 'statusChanged'>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a request of API client `client`; an Idempotency-Key is that client's own. */
  async accept(request: NotificationRequest, client: string, idempotencyKey?: string): Promise<AcceptResult> {
    const resolved = await this.templates.resolve(request.template);
    if (!resolved) throw new UnknownTemplateError(request.template);
    const id = `n${randomBytes(12).toString('hex')}`;
    const now = this.now();
    const fingerprint = createHash('sha256').update(canonical(request)).digest('hex');
    const fields = toFields({ ...request, id, client, status: 'queued', attempts: 0, csAttempts: 0, createdAt: now });
    const result = await this.store.create(
      id,
      fields,
      { at: new Date(now).toISOString(), status: 'queued', detail: 'accepted' },
      {
        ttlSeconds: this.retentionSeconds,
        dueAt: now,
        idempotency: idempotencyKey === undefined ? undefined : { key: `idem:${client}:${idempotencyKey}`, fingerprint },
      },
    );
    if (!result.created) {
      if (result.fingerprint !== fingerprint) throw new IdempotencyConflictError(result.existingId);
      return { id: result.existingId, status: 'queued', replayed: true };
    }
    this.log.info('notification accepted', { id, openid: request.openid, template: request.template });
    this.metrics.statusChanged('queued');
    return { id, status: 'queued', replayed: false };
  }

  /**
   * The notification, or null when there is none; with `client`, also null when another client
   * created it (so a client cannot even learn that it exists). One created before owners were
   * recorded is shown to every client, as it was then: it expires with the retention period.
   */
  async get(id: string, client?: string): Promise<Notification | null> {
    const record = await this.store.get(id);
    if (!record) return null;
    const n = fromFields(id, record.fields, record.history);
    return client === undefined || n.client === undefined || n.client === client ? n : null;
  }

  /** Compare-and-set from one of `from` to `to`; `detail` null changes fields without a history line. */
  async move(
    n: Pick<Notification, 'id'>,
    from: readonly Status[],
    to: Status,
    detail: string | null,
    options: Omit<TransitionOptions, 'from' | 'to' | 'history'> = {},
  ): Promise<boolean> {
    const at = new Date(this.now()).toISOString();
    const moved = await this.store.transition(n.id, {
      ...options,
      from,
      to,
      history: detail === null ? undefined : { at, status: to, detail },
    });
    if (moved && detail !== null) this.log.info('notification status', { id: n.id, status: to, detail });
    if (moved && !(from.length === 1 && from[0] === to)) this.metrics.statusChanged(to);
    return moved;
  }

  /** Records `msgid → id`; returns a receipt status that came before (see Store.linkMsgid). */
  linkMsgid(msgid: string, id: string, ttlSeconds: number): Promise<string | null> {
    return this.store.linkMsgid(msgid, id, ttlSeconds);
  }

  /**
   * A TEMPLATESENDJOBFINISH for this notification: delivered, or on to the fallback. Applies while
   * still `queued` too: the msgid is linked before the send's status change is recorded.
   * `sender` is the receipt's FromUserName when known (a receipt stashed before its msgid was
   * linked keeps only its status); a receipt from another user only leaves a history line.
   */
  async applyReceipt(id: string, msgid: string, status: string, sender?: string): Promise<void> {
    const outcome = receiptOutcome(status);
    const n = await this.get(id);
    if (!n) return;
    const at = new Date(this.now()).toISOString();
    if (sender !== undefined && sender !== n.openid) {
      this.log.warn('receipt from another user ignored', { id, msgid, sender });
      await this.store.appendHistory(id, { at, status: n.status, detail: `receipt for msgid ${msgid} from another user ignored; changed nothing` });
      return;
    }
    const waiting: Status[] = ['queued', 'awaiting_receipt'];
    const set = { msgid, channel: 'template' };
    const moved =
      outcome === 'success'
        ? await this.move(n, waiting, 'delivered', `receipt for msgid ${msgid}: ${status}`, { set, dueAt: null })
        : await this.move(n, waiting, 'fallback_pending', `template path failed: receipt for msgid ${msgid}: ${status}`, {
            set: { ...set, reason: `receipt: ${status}` },
            dueAt: this.now(),
          });
    const templateId = n.templateId ?? (await this.templates.resolve(n.template))?.templateId;
    if (moved && templateId) await this.templates.count(templateId, `receipt_${outcome}`).catch(() => undefined);
    if (!moved) {
      await this.store.appendHistory(id, {
        at,
        status: n.status,
        detail: `late receipt for msgid ${msgid}: ${status}; changed nothing`,
      });
    }
  }

  /** Set membership that parks a notice for its user, to go with the status change (one atomic step). */
  parkedEntry(n: Pick<Notification, 'id' | 'openid' | 'createdAt'>): NonNullable<TransitionOptions['addToSet']> {
    return { key: parkedKey(n.openid), member: n.id, score: n.createdAt, ttlSeconds: this.retentionSeconds };
  }

  /** Set membership that un-parks a notice, to go with the status change. */
  unparkedEntry(n: Pick<Notification, 'id' | 'openid'>): NonNullable<TransitionOptions['removeFromSet']> {
    return { key: parkedKey(n.openid), member: n.id };
  }

  unparkForUser(openid: string, id: string): Promise<void> {
    return this.store.removeFromSet(parkedKey(openid), id);
  }

  /** Ids of notices waiting for this user, oldest first. */
  parkedFor(openid: string, limit: number): Promise<string[]> {
    return this.store.rangeOfSet(parkedKey(openid), limit);
  }
}
