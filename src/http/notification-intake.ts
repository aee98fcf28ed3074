import { idempotencyKey } from './schemas/common';
import type { Response } from 'express';
import { IdempotencyConflictError, UnknownTemplateError } from '../delivery/notifications';
import type { NotificationRequest } from '../delivery/notification';
import type { AccountState } from '../delivery/account-state';
import type { Account } from '../delivery/accounts';
import { STREAM_CLIENT, type AcceptEntries } from '../delivery/stream-intake';
import { HttpError } from './errors';
import { fieldErrors, notificationBody } from './notification-schema';
import { settledValue, type Settled } from '../settled';

/** The accounts as accepting a notification needs them (src/delivery/accounts.ts). */
export interface IntakeAccounts {
  state(appid: string): Promise<AccountState>;
  runtime(appid: string): Account;
  activeAppids(): Promise<string[]>;
}

/**
 * Who hands in a notification: the client it is recorded under (its owner, who alone reads it back
 * and whose Idempotency-Key space it uses) and the accounts it may use (null: every account).
 */
export interface Requester {
  client: string;
  accounts: readonly string[] | null;
}

/** The request's API key as the requester (`res.locals` as set by bearerAuth). */
export const requesterOf = (res: Response): Requester => ({ client: res.locals.client as string, accounts: res.locals.accounts as readonly string[] | null });

/** The API's error body. */
export interface ErrorBody {
  code: string;
  message: string;
  details?: unknown;
}

/** Stored (or found stored under the same idempotency key and body: `replayed`). */
export interface Accepted {
  status: 202;
  id: string;
  replayed: boolean;
}

/** Refused for something the sender must change; nothing was stored. */
export interface Refused {
  status: 400 | 403 | 409;
  error: ErrorBody;
}


/** An idempotency key as sent (undefined: none), and where it was sent, for the error. */
export interface SentKey {
  value: unknown;
  field: string;
}

const refused = (err: HttpError): Refused => ({
  status: err.status as Refused['status'],
  error: { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) },
});

/** A refusal as the error it is for a single call (answered in the API's error shape). */
const refusalError = (r: Refused): HttpError => new HttpError(r.status, r.error.code, r.error.message, r.error.details);

/** The 202's body of a single call. */
export const acceptedBody = (a: Accepted) => ({ id: a.id, status: 'queued' as const });

/**
 * Accepting one notification as POST /v1/notifications does it, for every way in (the single call,
 * each item of a batch, each entry of the intake stream): the body against the notification
 * schema, the idempotency key, the account (named, or the requester's only one), its state, the
 * template, then the record. What the sender must fix is returned as a refusal; the store being
 * away (StoreUnavailableError) and faults of wxreach are thrown.
 */
export class NotificationIntake {
  constructor(private readonly accounts: IntakeAccounts) {}

  /**
   * The account a request names, or the requester's only account when it names none; an HttpError
   * says what to send instead.
   */
  async chosenAccount(requester: Requester, named: string | undefined): Promise<string> {
    const limited = requester.accounts;
    if (named === undefined) {
      const visible = limited ?? (await this.accounts.activeAppids());
      if (visible.length === 1) return visible[0];
      const detail = [{ field: 'account', message: 'required: more than one account can be used with this key' }];
      throw new HttpError(400, 'invalid_request', 'name the account (its appid) in "account"', detail);
    }
    if (limited !== null && !limited.includes(named)) throw new HttpError(403, 'forbidden', `this API key may not use account ${named}`);
    return named;
  }

  /** The stream intake's way in: as the stream's own client, which may use every account. */
  readonly acceptFromStream: AcceptEntries = (entries) => {
    const all = this.acceptAll({ client: STREAM_CLIENT, accounts: null }, entries.map(({ notification, key }) => ({ body: notification, key })));
    return entries.map((_, i) => all.then((outcomes) => settledValue(outcomes[i])).then((r) => (r.status === 202 ? { id: r.id } : { refused: r.error })));
  };

  /**
   * Validates `body` and stores it for `requester`. `key` is the idempotency key as sent (undefined:
   * none) and `field` where it was sent, for the error.
   */
  async accept(requester: Requester, body: unknown, key?: SentKey): Promise<Accepted | Refused> {
    const [outcome] = await this.acceptAll(requester, [{ body, key }]);
    return settledValue(outcome);
  }

  /**
   * A single POST /v1/notifications, whichever way it came (the express route, the node:http
   * edge): the notice accepted, told to `onAccepted` unless it replays an earlier call, or its
   * refusal thrown as the API's error. `idempotencyKey`: the header as sent.
   */
  async acceptCall(requester: Requester, body: unknown, idempotencyKey: unknown, onAccepted?: () => void): Promise<Accepted> {
    const result = await this.accept(requester, body, { value: idempotencyKey, field: 'Idempotency-Key' });
    if (result.status !== 202) throw refusalError(result);
    if (!result.replayed) onAccepted?.();
    return result;
  }

  /**
   * `accept` for many at once: what each item came to, in order, as its own `accept` would have
   * (a refusal, or the reason it threw); the items of one account are stored together
   * (Notifications.acceptAll).
   */
  async acceptAll(requester: Requester, items: readonly { body: unknown; key?: SentKey }[]): Promise<Settled<Accepted | Refused>[]> {
    const outcomes: Settled<Accepted | Refused>[] = new Array(items.length);
    const refuse = (i: number, err: HttpError) => (outcomes[i] = { status: 'fulfilled', value: refused(err) });
    const byAccount = new Map<string | undefined, Array<{ i: number; request: NotificationRequest; key?: string }>>();
    items.forEach(({ body, key }, i) => {
      const parsed = notificationBody.safeParse(body);
      if (!parsed.success) return refuse(i, new HttpError(400, 'invalid_request', 'the body does not match the notification schema', fieldErrors(parsed.error)));
      if (key !== undefined && key.value !== undefined && !idempotencyKey.safeParse(key.value).success) {
        return refuse(i, new HttpError(400, 'invalid_request', `${key.field} must be 1-200 printable ASCII characters`, [{ field: key.field, message: 'invalid' }]));
      }
      // the parsed body is this call's own: its data is replaced in place (a spread `{ ...body, data }`
      // costs V8 a new hidden class per notice)
      const { account: named, ...request } = parsed.data;
      const data: NotificationRequest['data'] = {};
      for (const name in request.data) {
        const value = request.data[name];
        data[name] = typeof value === 'string' ? { value } : value;
      }
      const members = byAccount.get(named) ?? [];
      if (members.length === 0) byAccount.set(named, members);
      members.push({ i, request: Object.assign(request, { data }), key: key?.value as string | undefined });
    });
    await Promise.all(
      [...byAccount].map(async ([named, members]) => {
        try {
          const appid = await this.usableAccount(requester, named);
          const stored = await this.accounts.runtime(appid).delivery.notifications.acceptAll(members.map(({ request, key }) => ({ request, client: requester.client, idempotencyKey: key })));
          members.forEach(({ i }, j) => {
            const result = stored[j];
            outcomes[i] = result.status === 'fulfilled' ? { status: 'fulfilled', value: { status: 202, id: result.value.id, replayed: result.value.replayed } } : outcomeOf(result.reason);
          });
        } catch (err) {
          const outcome = outcomeOf(err);
          for (const { i } of members) outcomes[i] = outcome;
        }
      }),
    );
    return outcomes;
  }

  /** The account named (or the requester's only one) when notices can be stored for it; an HttpError says why not. */
  private async usableAccount(requester: Requester, named: string | undefined): Promise<string> {
    const appid = await this.chosenAccount(requester, named);
    const state = await this.accounts.state(appid);
    if (state === 'unknown') throw new HttpError(400, 'unknown_account', `no account ${appid} here (not configured or not authorised)`, [{ field: 'account', message: 'unknown' }]);
    if (state === 'unauthorized') throw new HttpError(409, 'account_unauthorized', `account ${appid} revoked its authorisation: nothing can be sent for it`);
    return appid;
  }
}

/** What the sender must change, as a refusal; anything else (the store away, a fault) as the reason the item failed. */
function outcomeOf(err: unknown): Settled<Refused> {
  if (err instanceof HttpError) return { status: 'fulfilled', value: refused(err) };
  if (err instanceof UnknownTemplateError) return { status: 'fulfilled', value: refused(new HttpError(400, 'unknown_template', err.message, [{ field: 'template', message: err.message }])) };
  if (err instanceof IdempotencyConflictError) return { status: 'fulfilled', value: refused(new HttpError(409, 'idempotency_conflict', err.message, { id: err.existingId })) };
  return { status: 'rejected', reason: err };
}
