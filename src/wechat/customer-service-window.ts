import type { Push } from './push';

/**
 * WeChat's customer-service window (rules since 2023): a user interaction lets the account send
 * a few customer-service messages for a while; WeChat answers 45015 outside a window and 45047
 * once its messages are used up. See docs/wechat-protocol-notes.md "The customer-service window".
 */
export const WINDOW_RULES = {
  /** A message from the user: 5 messages within 48 hours. */
  message: { quota: 5, seconds: 48 * 3600 },
  /** Follow, scan or menu click: 3 messages within 1 minute. */
  event: { quota: 3, seconds: 60 },
} as const;

export type WindowKind = keyof typeof WINDOW_RULES;

/** Which pushes open a window, and which one: a user's message the long one, an event the short one. */
export const WINDOW_OPENED_BY: Partial<Record<Push['kind'], WindowKind>> = {
  message: 'message',
  subscribe: 'event',
  scan: 'event',
  menu_click: 'event',
};
