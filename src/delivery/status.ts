/** The one status vocabulary shared by the API, the logs and the history (README "Statuses"). */
export const STATUSES = [
  'queued',
  'awaiting_receipt',
  'fallback_pending',
  'awaiting_interaction',
  'delivered',
  'fallback_sent',
  'failed',
] as const;

export type Status = (typeof STATUSES)[number];

export const TERMINAL: ReadonlySet<Status> = new Set(['delivered', 'fallback_sent', 'failed']);

export type Channel = 'template' | 'customer_service' | 'passive_reply';
