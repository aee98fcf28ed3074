import type { WechatCipher } from '../wechat/cipher';
import type { PushMode } from '../wechat/outbound-push';
import { isNoReply, openReply } from '../wechat/replies';

export interface PassiveReplyResult {
  /** The text shown to the user, or null when there was none (or it was invalid). */
  reply: string | null;
  /** The raw HTTP body the callback answered. */
  raw: string;
  error?: string;
}

export interface ReplyContext {
  mode: PushMode;
  token: string;
  account: string;
  cipher?: WechatCipher;
  openid: string;
}

/** Checks a passive reply the way WeChat would before showing it to the user. */
export async function readPassiveReply(raw: string, ctx: ReplyContext): Promise<PassiveReplyResult> {
  // "No reply" may come unencrypted in any mode.
  if (isNoReply(raw)) return { reply: null, raw };
  try {
    const keys = ctx.cipher && { cipher: ctx.cipher, token: ctx.token };
    const f = await openReply(raw.trim(), keys, ctx.mode === 'safe');
    if (f.ToUserName !== ctx.openid) throw new Error(`reply ToUserName must be the user's openid ${ctx.openid}`);
    if (f.FromUserName !== ctx.account) throw new Error(`reply FromUserName must be the account ${ctx.account}`);
    if (f.MsgType !== 'text') throw new Error(`reply MsgType '${f.MsgType ?? ''}' is not emulated (text only)`);
    if (typeof f.Content !== 'string' || f.Content === '') throw new Error('text reply has no Content');
    return { reply: f.Content, raw };
  } catch (err) {
    return { reply: null, raw, error: (err as Error).message };
  }
}
