import type { Account } from './account';
import type { DeliveryOptions, PushFields } from './callback';
import { readPassiveReply, type PassiveReplyResult } from './passive-reply';
import type { EmulatedUser } from './state';

/**
 * Pushes a user message or event to the account's push URL and reads the passive reply from the
 * answer, as WeChat does: a valid text reply reaches the user's inbox; an invalid one is reported.
 */
export async function pushInteraction(account: Account, user: EmulatedUser, extra: PushFields, delivery?: Partial<DeliveryOptions>): Promise<PassiveReplyResult> {
  const fields: PushFields = { ToUserName: account.opts.account, FromUserName: user.openid, CreateTime: account.clock.seconds(), ...extra };
  const target = account.pushTarget();
  const answer = await account.push(fields, user.openid, target, delivery);
  if (!answer.ok || !target) return { reply: null, raw: '', error: answer.ok ? undefined : answer.error };
  const result = await readPassiveReply(answer.body, { ...target, openid: user.openid });
  // A reply to an unsubscribe cannot reach the user.
  if (result.reply !== null && user.subscribed) {
    user.inbox.push({ at: account.clock.iso(), channel: 'passive_reply', text: result.reply });
  }
  return result;
}

export const textMessage = (account: Account, content: string): PushFields => ({
  MsgType: 'text',
  Content: content,
  // A 64-bit MsgId, written as a bare number and never rounded.
  MsgId: BigInt(account.ids.nextUserMsgId()),
});

export const event = (name: string, more: PushFields = {}): PushFields => ({ MsgType: 'event', Event: name, ...more });
