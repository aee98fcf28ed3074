import type { XmlFields } from './xml';

/** How a TEMPLATESENDJOBFINISH Status reads (docs/wechat-protocol-notes.md "Receipts"): exact strings, parsed leniently. */
export type ReceiptOutcome = 'success' | 'user_block' | 'system_failed' | 'other_failed';

interface PushBase {
  /** The sender (user) OpenID. */
  openid: string;
  /** The account's original id (gh_…). */
  account: string;
  createTime: number;
  /** Identity of this push across WeChat's re-sends. */
  dedupeKey: string;
}

export type Push =
  | (PushBase & { kind: 'receipt'; msgid: string; status: string; outcome: ReceiptOutcome })
  | (PushBase & { kind: 'message'; msgType: string; msgId: string; content?: string })
  | (PushBase & { kind: 'subscribe'; eventKey?: string })
  | (PushBase & { kind: 'unsubscribe' })
  | (PushBase & { kind: 'scan'; eventKey?: string })
  | (PushBase & { kind: 'menu_click'; event: string; eventKey?: string })
  | (PushBase & { kind: 'other'; msgType: string; event?: string });

/** User message types that open the 48-hour customer-service window. */
const USER_MESSAGE_TYPES = new Set(['text', 'image', 'voice', 'video', 'shortvideo', 'location', 'link', 'file']);
/** Menu events that open the 1-minute window (per the customer-service doc). */
const MENU_EVENTS = new Set(['CLICK', 'scancode_push', 'scancode_waitmsg']);

export class PushError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PushError';
  }
}

export function receiptOutcome(status: string): ReceiptOutcome {
  if (status === 'success') return 'success';
  if (!status.startsWith('failed')) return 'other_failed';
  if (status.includes('user block')) return 'user_block';
  // "failed: system failed" is documented with one space; a missing space is a known typo elsewhere.
  if (/^failed:\s*system failed$/.test(status)) return 'system_failed';
  return 'other_failed';
}

/** Turns the fields of a plaintext push into one typed value, the only place that reads raw push fields. */
export function parsePush(f: XmlFields): Push {
  const openid = f.FromUserName;
  const account = f.ToUserName;
  const msgType = f.MsgType;
  if (!openid || !account || !msgType) throw new PushError('push lacks FromUserName, ToUserName or MsgType');
  if (!/^\d{1,12}$/.test(f.CreateTime ?? '')) throw new PushError('push has no valid CreateTime');
  const createTime = Number(f.CreateTime);
  // Events carry no MsgId, and one user can cause two in a second (a LOCATION report and a follow):
  // WxJava's duplicate checker keys them on Event and EventKey too. EventKey goes last: it may hold colons.
  const eventKey = () => `ev:${openid}:${createTime}:${f.Event ?? ''}:${f.EventKey ?? ''}`;
  // (no object spread: V8 builds `{ ...base, kind }` many times slower)
  const base = (dedupeKey: string): PushBase => ({ openid, account, createTime, dedupeKey });

  if (msgType !== 'event') {
    const msgId = f.MsgId;
    const dedupeKey = msgId ? `msg:${msgId}` : eventKey();
    if (USER_MESSAGE_TYPES.has(msgType)) {
      return Object.assign(base(dedupeKey), { kind: 'message' as const, msgType, msgId: msgId ?? '', content: f.Content });
    }
    return Object.assign(base(dedupeKey), { kind: 'other' as const, msgType });
  }

  const event = f.Event ?? '';
  switch (event) {
    case 'TEMPLATESENDJOBFINISH': {
      const msgid = f.MsgID ?? f.MsgId;
      const status = f.Status;
      if (!msgid || !/^\d{1,20}$/.test(msgid) || status === undefined) {
        throw new PushError('TEMPLATESENDJOBFINISH lacks a numeric MsgID or a Status');
      }
      // The sender too: a receipt from another user (ignored) must not shadow the genuine one.
      return { openid, account, createTime, dedupeKey: `rcpt:${openid}:${msgid}:${status}`, kind: 'receipt', msgid, status, outcome: receiptOutcome(status) };
    }
    case 'subscribe':
      return Object.assign(base(eventKey()), { kind: 'subscribe' as const, eventKey: f.EventKey || undefined });
    case 'unsubscribe':
      return Object.assign(base(eventKey()), { kind: 'unsubscribe' as const });
    case 'SCAN':
      return Object.assign(base(eventKey()), { kind: 'scan' as const, eventKey: f.EventKey || undefined });
    default:
      if (MENU_EVENTS.has(event)) return Object.assign(base(eventKey()), { kind: 'menu_click' as const, event, eventKey: f.EventKey || undefined });
      return Object.assign(base(eventKey()), { kind: 'other' as const, msgType, event });
  }
}
