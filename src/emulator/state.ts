/** The receipt Status strings the emulator can send (exact spellings: docs/wechat-protocol-notes.md "Receipts"). */
export const RECEIPT_STATUSES = ['success', 'failed:user block', 'failed: system failed', 'failed:freq limit'] as const;
export type ReceiptStatus = (typeof RECEIPT_STATUSES)[number];

/**
 * What happens after a template send: a Status, no receipt at all, the success receipt sent
 * N times, or the receipt acknowledged before the send call answers.
 */
export type ReceiptOutcomeSetting = ReceiptStatus | 'none' | 'before_answer' | { repeat: number };

export type InboxChannel = 'template' | 'customer_service' | 'passive_reply';

export interface InboxEntry {
  /** ISO time on the virtual clock. */
  at: string;
  channel: InboxChannel;
  /** The text as the user sees it. */
  text: string;
  template_id?: string;
  msgid?: string;
  client_msg_id?: string;
}

/** A customer-service allowance: uses left until a virtual-clock deadline. */
export interface Allowance {
  expiresAt: number;
  left: number;
}

export interface EmulatedUser {
  openid: string;
  subscribed: boolean;
  inbox: InboxEntry[];
  /** Opened by a user message (5 / 48 h). */
  messageAllowance?: Allowance;
  /** Opened by subscribe, scan or menu click (3 / 60 s). */
  eventAllowance?: Allowance;
  /** Templates this user refused (43101). */
  refused: Set<string>;
  outcome?: ReceiptOutcomeSetting;
  outcomeByTemplate: Map<string, ReceiptOutcomeSetting>;
}

export interface EmulatedTemplate {
  template_id: string;
  title: string;
  content: string;
  /** Placeholder names in content order, e.g. ['first', 'keyword1', 'remark']. */
  placeholders: string[];
  primary_industry: string;
  deputy_industry: string;
  example: string;
}

/** Everything reset() clears. */
export class EmulatorState {
  readonly users = new Map<string, EmulatedUser>();
  readonly templates = new Map<string, EmulatedTemplate>();
  /** The template library, by short id, as far as templates added with a short id taught it. */
  readonly library = new Map<string, { title: string; content: string }>();
  /** openid + client_msg_id → the msgid first answered and when (virtual ms). */
  readonly clientMsgIds = new Map<string, { msgid: string; at: number }>();
  quotaDay = -1;
  quotaUsed = 0;

  newUser(openid: string, subscribed: boolean): EmulatedUser {
    const user: EmulatedUser = { openid, subscribed, inbox: [], refused: new Set(), outcomeByTemplate: new Map() };
    this.users.set(openid, user);
    return user;
  }

  clear(): void {
    this.users.clear();
    this.templates.clear();
    this.library.clear();
    this.clientMsgIds.clear();
    this.quotaDay = -1;
    this.quotaUsed = 0;
  }
}
