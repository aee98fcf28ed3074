import type { DeliveryAttemptView, WebhookDeliveryView, WebhookEndpointView } from '../http/schemas/webhooks';
import type { DeliveryAttempt, EndpointState, StoredDelivery } from '../store/webhook-store';
import type { Endpoint } from './endpoints';
import type { WebhookEventType } from './event-types';

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

const DISABLED_BECAUSE: Record<string, string> = {
  gone: 'the endpoint answered 410 Gone',
  failing: 'every attempt failed for 5 days',
};

function disabledView(state: EndpointState): WebhookEndpointView['disabled'] {
  if (state.disabledAt === null) return null;
  const reason = state.disabledReason ?? 'unknown';
  return { at: iso(state.disabledAt), reason, message: DISABLED_BECAUSE[reason] ?? reason };
}

/** An endpoint as the API shows it (and `webhook.endpoint_disabled` carries): never its secret. */
export function endpointView(e: Endpoint, state: EndpointState): WebhookEndpointView {
  return {
    id: e.id,
    url: e.url,
    ...(e.description ? { description: e.description } : {}),
    source: e.owner === null ? 'config' : 'api',
    events: e.events && [...e.events],
    accounts: e.accounts && [...e.accounts],
    createdAt: e.owner === null ? null : iso(e.createdAt),
    disabled: disabledView(state),
    failingSince: isoOrNull(state.failingSince),
  };
}

const attemptView = (a: DeliveryAttempt): DeliveryAttemptView => ({ at: iso(a.at), ms: a.ms, ...(a.status !== undefined ? { status: a.status } : {}), ...(a.error ? { error: a.error } : {}) });

/** A delivery as the API lists it; `detail` adds every attempt kept and, with `body`, the body sent. */
export function deliveryView(d: StoredDelivery, detail?: { attempts: DeliveryAttempt[]; body: boolean }): WebhookDeliveryView {
  return {
    id: d.id,
    endpoint: d.endpoint,
    webhookId: d.event,
    // the store keeps what the fan-out made, from the known types only
    type: d.type as WebhookEventType,
    account: d.account,
    subject: d.subject,
    status: d.state,
    attempts: d.attempts,
    nextAttemptAt: isoOrNull(d.dueAt),
    givenUp: d.givenUp,
    createdAt: iso(d.createdAt),
    lastAttempt: d.lastAttempt ? attemptView(d.lastAttempt) : null,
    ...(detail ? { attemptLog: detail.attempts.map(attemptView) } : {}),
    ...(detail?.body ? { payload: JSON.parse(d.body) as unknown } : {}),
  };
}
