import type { Account } from './account';
import type { EmulatedUser, ReceiptOutcomeSetting, ReceiptStatus } from './state';

export function outcomeFor(user: EmulatedUser, templateId: string): ReceiptOutcomeSetting {
  return user.outcomeByTemplate.get(templateId) ?? user.outcome ?? 'success';
}

/** Whether the message reached the user's screen ('none' = delivered, receipt lost). */
export function reachesUser(outcome: ReceiptOutcomeSetting): boolean {
  return typeof outcome === 'object' || outcome === 'success' || outcome === 'none' || outcome === 'before_answer';
}

function receiptFields(account: Account, openid: string, msgid: string, status: ReceiptStatus) {
  // The documented shape (docs/wechat-protocol-notes.md "Receipts"), including the `MsgID` spelling.
  return {
    ToUserName: account.opts.account,
    FromUserName: openid,
    CreateTime: account.clock.seconds(),
    MsgType: 'event',
    Event: 'TEMPLATESENDJOBFINISH',
    MsgID: BigInt(msgid),
    Status: status,
  };
}

/**
 * Sends the TEMPLATESENDJOBFINISH receipt(s) for one template message. Returns a promise only for
 * 'before_answer', which the send handler awaits before writing its answer.
 */
export function scheduleReceipt(account: Account, openid: string, msgid: string, outcome: ReceiptOutcomeSetting): Promise<unknown> | undefined {
  if (outcome === 'none' || !account.pushTarget()) return undefined;
  if (outcome === 'before_answer') return account.push(receiptFields(account, openid, msgid, 'success'), openid);
  const status: ReceiptStatus = typeof outcome === 'object' ? 'success' : outcome;
  const times = typeof outcome === 'object' ? outcome.repeat : 1;
  account.core.later(account.core.opts.receiptDelayMs, async () => {
    // A repeated receipt is byte-identical in plaintext (same CreateTime), like WeChat's re-sends.
    const fields = receiptFields(account, openid, msgid, status);
    for (let i = 0; i < times; i++) await account.push(fields, openid);
  });
  return undefined;
}
