import type { PushFields } from './callback';
import type { EmulatorCore } from './core';
import { readPassiveReply, type PassiveReplyResult } from './passive-reply';
import type { EmulatedUser } from './state';

/**
 * Pushes a user message or event to the callback and reads the passive reply from the answer,
 * as WeChat does: a valid text reply reaches the user's inbox; an invalid one is reported.
 */
export async function pushInteraction(core: EmulatorCore, user: EmulatedUser, extra: PushFields): Promise<PassiveReplyResult> {
  const fields: PushFields = { ToUserName: core.opts.account, FromUserName: user.openid, CreateTime: core.clock.seconds(), ...extra };
  const delivery = await core.push(fields, user.openid);
  if (!delivery.ok) return { reply: null, raw: '', error: delivery.error };
  const result = await readPassiveReply(delivery.body, {
    mode: core.opts.mode,
    token: core.opts.token,
    account: core.opts.account,
    cipher: core.cipher,
    openid: user.openid,
  });
  // A reply to an unsubscribe cannot reach the user.
  if (result.reply !== null && user.subscribed) {
    user.inbox.push({ at: core.clock.iso(), channel: 'passive_reply', text: result.reply });
  }
  return result;
}

export const textMessage = (core: EmulatorCore, content: string): PushFields => ({
  MsgType: 'text',
  Content: content,
  // A 64-bit MsgId, written as a bare number and never rounded.
  MsgId: BigInt(core.ids.nextUserMsgId()),
});

export const event = (name: string, more: PushFields = {}): PushFields => ({ MsgType: 'event', Event: name, ...more });
