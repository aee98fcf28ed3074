import type { DeliveryAttempt, EndpointState, StoredDelivery } from '../store/webhook-store';
import type { Endpoint } from './endpoints';

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

const DISABLED_BECAUSE: Record<string, string> = {
  gone: 'the endpoint answered 410 Gone',
  failing: 'every attempt failed for 5 days',
};

/** An endpoint as the API shows it (and `webhook.endpoint_disabled` carries): never its secret. */
export function endpointView(e: Endpoint, state: EndpointState): Record<string, unknown> {
  return {
    id: e.id,
    url: e.url,
    ...(e.description ? { description: e.description } : {}),
    source: e.owner === null ? 'config' : 'api',
    events: e.events,
    accounts: e.accounts,
    createdAt: e.owner === null ? null : iso(e.createdAt),
    disabled:
      state.disabledAt === null
        ? null
        : { at: iso(state.disabledAt), reason: state.disabledReason, message: DISABLED_BECAUSE[state.disabledReason ?? ''] ?? state.disabledReason },
    failingSince: iso(state.failingSince),
  };
}

const attemptView = (a: DeliveryAttempt) => ({ at: iso(a.at), ms: a.ms, ...(a.status !== undefined ? { status: a.status } : {}), ...(a.error ? { error: a.error } : {}) });

/** A delivery as the API lists it; `detail` adds every attempt kept and, with `body`, the body sent. */
export function deliveryView(d: StoredDelivery, detail?: { attempts: DeliveryAttempt[]; body: boolean }): Record<string, unknown> {
  return {
    id: d.id,
    endpoint: d.endpoint,
    webhookId: d.event,
    type: d.type,
    account: d.account,
    subject: d.subject,
    status: d.state,
    attempts: d.attempts,
    nextAttemptAt: iso(d.dueAt),
    givenUp: d.givenUp,
    createdAt: iso(d.createdAt),
    lastAttempt: d.lastAttempt ? attemptView(d.lastAttempt) : null,
    ...(detail ? { attemptLog: detail.attempts.map(attemptView) } : {}),
    ...(detail?.body ? { payload: JSON.parse(d.body) as unknown } : {}),
  };
}
