import type { TemplateConfig } from '../config/schema';
import type { Logger } from '../log/logger';
import type { AccountMetrics, Metrics } from '../metrics/metrics';
import type { AccountStore } from '../store/store';
import type { ApiQuota, TemplateMessage } from '../wechat/api-client';
import type { AccountState } from './account-state';
import { CustomerServiceLeg } from './customer-service-leg';
import { CustomerServiceWindow } from './customer-service-window';
import { Dispatcher } from './dispatcher';
import { Lifecycle, moveRecording } from './lifecycle';
import { NoticeSearch } from './notice-search';
import { Notifications } from './notifications';
import { Parking } from './parking';
import { DEDUPE_SECONDS, PushIntake } from './push-intake';
import { ReceiptCommit } from './receipt-commit';
import { TemplateLeg, type TemplateLegSettings } from './template-leg';
import { TemplateQuota } from './template-quota';
import { TemplateRegistry, type TemplateApi, type ValidityChange } from './template-registry';
import type { WechatWaitSettings } from './wechat-wait';

/** The WeChat calls delivery makes. */
export interface DeliveryApi extends TemplateApi {
  sendTemplate(message: TemplateMessage): Promise<string>;
  sendText(openid: string, content: string): Promise<void>;
  templateQuota(): Promise<ApiQuota>;
}

export interface DeliverySettings {
  templates: Readonly<Record<string, TemplateConfig>>;
  retry: { maxAttempts: number; baseDelayMs: number };
  receipt: TemplateLegSettings['receipt'];
  /** How long a notice waits for the user to come back. */
  parkSeconds: number;
  /** Notices (and their parked lists) are kept this long. */
  retentionSeconds: number;
  /** The statistics' counters are kept this long. */
  statsRetentionSeconds: number;
  /** How long a msgid → notice link lives. */
  msgidSeconds: number;
  /** The work loop's lease. */
  leaseMs: number;
  /** How long a customer-service call may be in flight before it counts as lost. */
  callMs: number;
  /** Waiting for WeChat (outage, token): the bound and the circuit breaker's view. */
  wait: WechatWaitSettings;
  /** Whether the account may still send (default: always). */
  accountState?: () => Promise<AccountState>;
  /** Told when a template becomes unusable or usable again (the status webhooks). */
  onTemplateValidity?: (change: ValidityChange) => Promise<void>;
  /** Whether a move's webhook event of this type may be wanted by an endpoint (default: always; see MoveRecording). */
  eventWanted?: (type: string) => boolean;
  /** The data fields notices can be found by (default none). */
  searchFields?: readonly string[];
}

/** The delivery classes of one account. */
export type Delivery = ReturnType<typeof createDelivery>;

/**
 * The delivery classes of one account (`store` is its part of the store), wired together: what the service runs and what the unit
 * tests drive without HTTP (one wiring, so a test exercises exactly what runs).
 */
export function createDelivery(
  store: AccountStore,
  api: DeliveryApi,
  settings: DeliverySettings,
  log: Logger,
  allMetrics: Pick<Metrics, 'statusChanged' | 'pushReceived'>,
  now: () => number = Date.now,
) {
  const { account } = store;
  const metrics: AccountMetrics = {
    statusChanged: (status: string) => allMetrics.statusChanged(status, account),
    pushReceived: (kind: string, duplicate: boolean) => allMetrics.pushReceived(kind, duplicate, account),
  };
  const templates = new TemplateRegistry(store, api, settings.templates, settings.statsRetentionSeconds, log, now, settings.onTemplateValidity);
  const quota = new TemplateQuota(store, api, log, now);
  // Closed windows are remembered a day past the longest a notice waits for its user.
  const window = new CustomerServiceWindow(store, settings.parkSeconds + 86_400, now);
  const recording = moveRecording(settings.statsRetentionSeconds, settings.eventWanted);
  const lifecycle = new Lifecycle(store, log, metrics, settings.retentionSeconds, recording, now);
  const searchFields = settings.searchFields ?? [];
  const notifications = new Notifications(store, templates, log, settings.retentionSeconds, settings.statsRetentionSeconds, metrics, searchFields, now);
  const search = new NoticeSearch(store, notifications, searchFields);
  const parking = new Parking(lifecycle, notifications, window, settings.parkSeconds, now);
  const { retry, wait } = settings;
  const customerService = new CustomerServiceLeg(lifecycle, api, templates, window, parking, { retry, callMs: settings.callMs, wait }, now);
  const templateLeg = new TemplateLeg(
    lifecycle,
    notifications,
    store,
    api,
    templates,
    quota,
    customerService,
    { retry, receipt: settings.receipt, leaseMs: settings.leaseMs, msgidSeconds: settings.msgidSeconds, wait },
    log,
    now,
  );
  const accountState = settings.accountState ?? (() => Promise.resolve<AccountState>('active'));
  const dispatcher = new Dispatcher(lifecycle, notifications, templateLeg, customerService, parking, retry.baseDelayMs, accountState, log, now);
  const receipts = new ReceiptCommit(store, metrics, log, settings.msgidSeconds, DEDUPE_SECONDS, recording, now);
  const intake = new PushIntake(store, receipts, parking, window, metrics, log, now);
  return { templates, quota, window, lifecycle, notifications, search, parking, customerService, templateLeg, dispatcher, intake };
}
