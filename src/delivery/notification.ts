import type { Fields, HistoryEntry } from '../store/store';
import type { Channel, Status } from './lifecycle';

export interface FieldValue {
  value: string;
  color?: string;
}

/** What a business system asked for (validated by the API before it gets here). */
export interface NotificationRequest {
  openid: string;
  /** Logical name from config, or a raw template id. */
  template: string;
  data: Record<string, FieldValue>;
  url?: string;
  miniprogram?: { appid: string; pagepath: string };
  fallbackText?: string;
}

export interface Notification extends NotificationRequest {
  id: string;
  /** The Official Account's appid (known from where the record is kept, not stored in it). */
  account: string;
  status: Status;
  /**
   * The API client that created it (the short name of its key, `open` when the API has no keys);
   * only that client may read it. Absent on notifications created before owners were recorded.
   */
  client?: string;
  /** The WeChat template id used (resolved from the logical name at send time). */
  templateId?: string;
  msgid?: string;
  channel?: Channel;
  reason?: string;
  /** Template send attempts so far (transient failures). */
  attempts: number;
  /** Customer-service send attempts so far. */
  csAttempts: number;
  /** Set while a customer-service call is in flight; found set after a crash, the outcome is unknown. */
  csCallAt?: number;
  /** The fallback sentence, fixed once built so every channel sends the same words. */
  text?: string;
  /** Deadline of a parked notice (first park), kept when it is parked again. */
  parkedUntil?: number;
  /** When waiting for the receipt ends. */
  receiptDueAt?: number;
  /** `<status>@<ms>`: since when this leg waits for WeChat to answer (an outage, no token). */
  waiting?: string;
  /** Steps that failed for an internal reason (a bug, bad stored data) in a row; bounded. */
  stepErrors?: number;
  createdAt: number;
  history: HistoryEntry[];
}

const OPTIONAL_STRINGS = ['client', 'templateId', 'msgid', 'channel', 'reason', 'url', 'fallbackText', 'text', 'waiting'] as const;
const OPTIONAL_NUMBERS = ['csCallAt', 'parkedUntil', 'receiptDueAt', 'stepErrors'] as const;

/** The store keeps flat strings; these functions are the only place that knows the mapping. */
export function toFields(n: Omit<Notification, 'history' | 'account'>): Fields {
  const f = fieldsBesideData(n);
  f.data = JSON.stringify(n.data);
  return f;
}

/**
 * toFields but `data`: a new notice's record takes its data as the object (NewRecord.data), which
 * the store writes as it keeps it, without its JSON made here and read back there.
 */
export function fieldsBesideData(n: Omit<Notification, 'history' | 'account'>): Fields {
  const f: Fields = {
    status: n.status,
    openid: n.openid,
    template: n.template,
    createdAt: String(n.createdAt),
  };
  // no attempt yet is what an absent count reads back as: a new record stores neither
  if (n.attempts !== 0) f.attempts = String(n.attempts);
  if (n.csAttempts !== 0) f.csAttempts = String(n.csAttempts);
  for (const k of OPTIONAL_STRINGS) if (n[k] !== undefined) f[k] = n[k] as string;
  for (const k of OPTIONAL_NUMBERS) if (n[k] !== undefined) f[k] = String(n[k]);
  if (n.miniprogram) f.miniprogram = JSON.stringify(n.miniprogram);
  return f;
}

export function fromFields(id: string, account: string, f: Fields, history: HistoryEntry[]): Notification {
  const n: Notification = {
    id,
    account,
    status: f.status as Status,
    openid: f.openid,
    template: f.template,
    data: JSON.parse(f.data ?? '{}') as Record<string, FieldValue>,
    attempts: Number(f.attempts ?? 0),
    csAttempts: Number(f.csAttempts ?? 0),
    createdAt: Number(f.createdAt ?? 0),
    history,
  };
  for (const k of OPTIONAL_STRINGS) if (f[k] !== undefined && f[k] !== '') (n as unknown as Record<string, string>)[k] = f[k];
  for (const k of OPTIONAL_NUMBERS) if (f[k] !== undefined && f[k] !== '') n[k] = Number(f[k]);
  if (f.miniprogram) n.miniprogram = JSON.parse(f.miniprogram) as Notification['miniprogram'];
  return n;
}

/** Plain business values (colour dropped) for the fallback sentence. */
export function plainValues(data: Record<string, FieldValue>): Record<string, string> {
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v.value]));
}

/** The notice as it is after a move that set `fields` (as the store would read it back). */
export function withFields(n: Notification, fields: Fields): Notification {
  return fromFields(n.id, n.account, { ...toFields(n), ...fields }, n.history);
}
