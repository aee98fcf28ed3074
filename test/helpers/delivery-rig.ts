import { createDelivery } from '../../src/delivery/delivery';
import type { Status } from '../../src/delivery/lifecycle';
import { toFields, type Notification, type NotificationRequest } from '../../src/delivery/notification';
import { MemoryStore } from '../../src/store/memory-store';
import type { ApiQuota, PrivateTemplate, TemplateMessage } from '../../src/wechat/api-client';
import { CircuitBreaker } from '../../src/wechat/circuit-breaker';
import { parsePush, type Push } from '../../src/wechat/push';
import { capturedLogger } from './logs';

export const T0 = 1_700_000_000_000;
/** The account the rig's notices belong to. */
export const APPID = 'wxunits0000000001';
export const USER = 'oUSER_units_0001';
export const OTHER_USER = 'oUSER_units_0002';
export const TEMPLATE_ID = 'TPL_ORDER_PAID_000000001';
export const REQUEST: NotificationRequest = {
  openid: USER,
  template: 'order_paid',
  data: { order_no: { value: 'A1' }, amount: { value: '9.90' } },
};
/** The customer-service text of REQUEST, from its template's configured pattern. */
export const TEXT = 'Order A1 paid: 9.90';

export const SETTINGS = {
  retry: { maxAttempts: 3, baseDelayMs: 100 },
  receiptTimeoutSeconds: 60,
  leaseMs: 30_000,
  parkSeconds: 3600,
  retentionSeconds: 7 * 86_400,
  msgidSeconds: 86_400,
  maxWaitMs: 60_000,
};
/** As service.ts: a call may wait for the token and then for its own answer. */
export const CALL_MS = SETTINGS.leaseMs + 3 * 5000;

/** The WeChat calls delivery makes; each test scripts what it needs and asserts the calls it expects. */
export interface FakeWechat {
  sendTemplate: jest.Mock<Promise<string>, [TemplateMessage]>;
  sendText: jest.Mock<Promise<void>, [string, string]>;
  listTemplates: jest.Mock<Promise<PrivateTemplate[]>, []>;
  addTemplate: jest.Mock<Promise<string>, [string]>;
  templateQuota: jest.Mock<Promise<ApiQuota>, []>;
}

export function fakeWechat(): FakeWechat {
  let msgid = 1000;
  return {
    sendTemplate: jest.fn<Promise<string>, [TemplateMessage]>(async () => String((msgid += 1))),
    sendText: jest.fn<Promise<void>, [string, string]>(async () => undefined),
    listTemplates: jest.fn<Promise<PrivateTemplate[]>, []>(async () => []),
    addTemplate: jest.fn<Promise<string>, [string]>(async () => {
      throw new Error('addTemplate not scripted for this test');
    }),
    templateQuota: jest.fn<Promise<ApiQuota>, []>(async () => {
      throw new Error('templateQuota not scripted for this test');
    }),
  };
}

export interface RigOptions {
  onTimeout?: 'fallback' | 'assume_delivered';
}

/**
 * The delivery classes wired by the service's own createDelivery, on a MemoryStore with a clock the test
 * moves and a fake WeChat API the test scripts: a decision is tested without HTTP or Redis.
 */
export function deliveryRig(options: RigOptions = {}) {
  let clock = T0;
  const now = () => clock;
  const backing = new MemoryStore({ now });
  const store = backing.forAccount(APPID);
  const { log, text: logs } = capturedLogger();
  const metrics = { statusChanged: jest.fn<void, [string, string]>(), pushReceived: jest.fn<void, [string, boolean, string]>() };
  const api = fakeWechat();
  const breaker = new CircuitBreaker(now);
  const wait = { maxWaitMs: SETTINGS.maxWaitMs, circuit: () => breaker.view(), storeUnreachableAt: () => backing.lastUnreachableAt() };

  const delivery = createDelivery(
    store,
    api,
    {
      templates: { order_paid: { id: TEMPLATE_ID, fallback: 'Order {{order_no}} paid: {{amount}}' } },
      retry: SETTINGS.retry,
      receipt: { timeoutSeconds: SETTINGS.receiptTimeoutSeconds, onTimeout: options.onTimeout ?? 'fallback' },
      parkSeconds: SETTINGS.parkSeconds,
      retentionSeconds: SETTINGS.retentionSeconds,
      statsRetentionSeconds: SETTINGS.retentionSeconds,
      msgidSeconds: SETTINGS.msgidSeconds,
      leaseMs: SETTINGS.leaseMs,
      callMs: CALL_MS,
      wait,
    },
    log,
    metrics,
    now,
  );
  const { notifications } = delivery;

  /** The notice as stored now (throws when there is none: every test expects it). */
  async function get(id: string): Promise<Notification> {
    const n = await notifications.get(id);
    if (!n) throw new Error(`notice ${id} not found`);
    return n;
  }

  /** A notice accepted as the API accepts one: queued and due now. */
  async function accept(request: Partial<NotificationRequest> = {}): Promise<Notification> {
    const { id } = await notifications.accept({ ...REQUEST, ...request }, 'open');
    return get(id);
  }

  /** A notice created directly in `status` (due now), e.g. one whose template leg already failed. */
  async function noticeIn(status: Status, extra: Partial<Notification> = {}): Promise<Notification> {
    const openid = extra.openid ?? REQUEST.openid;
    const id = store.newId(openid);
    const n = { ...REQUEST, id, status, attempts: 0, csAttempts: 0, createdAt: clock, ...extra };
    await store.create(id, toFields(n), { at: new Date(clock).toISOString(), status, detail: 'created for the test' }, { ttlSeconds: SETTINGS.retentionSeconds, dueAt: clock });
    return get(id);
  }

  /** Claims what is due at `at` (default now), oldest first, as the work loop does (a 1 ms lease); the ids. */
  const claim = async (at = clock) => (await backing.claimDue(at, 1, 100)).map((w) => w.id);

  return {
    store,
    /** The whole store: its schedule spans every account. */
    schedule: backing,
    api,
    log,
    logs,
    metrics,
    breaker,
    ...delivery,
    now,
    advance: (ms: number) => {
      clock += ms;
    },
    get,
    accept,
    noticeIn,
    claim,
  };
}

export type DeliveryRig = ReturnType<typeof deliveryRig>;

const base = (openid: string, now: number) => ({ ToUserName: 'gh_units', FromUserName: openid, CreateTime: String(Math.floor(now / 1000)) });

/** A TEMPLATESENDJOBFINISH push, parsed as the HTTP layer parses one. */
export function receiptPush(openid: string, msgid: string, status: string, now = T0): Extract<Push, { kind: 'receipt' }> {
  const push = parsePush({ ...base(openid, now), MsgType: 'event', Event: 'TEMPLATESENDJOBFINISH', MsgID: msgid, Status: status });
  if (push.kind !== 'receipt') throw new Error('not a receipt');
  return push;
}

/** A text message from the user (opens the long customer-service window). */
export function messagePush(openid: string, msgId: string, now = T0): Push {
  return parsePush({ ...base(openid, now), MsgType: 'text', Content: 'hello', MsgId: msgId });
}

/** A push of another kind: follow or unfollow. */
export function eventPush(openid: string, event: 'subscribe' | 'unsubscribe', now = T0): Push {
  return parsePush({ ...base(openid, now), MsgType: 'event', Event: event });
}
