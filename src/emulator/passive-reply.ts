import type { WechatCipher } from '../wechat/cipher';
import { openSealed } from '../wechat/envelope';
import { parseXml, type XmlFields } from '../wechat/xml';
import type { PushMode } from './options';

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

/** Unwraps §2.6 envelopes; safe mode accepts nothing else, compatible mode accepts both. */
async function plaintextFields(raw: string, ctx: ReplyContext): Promise<XmlFields> {
  const outer = await parseXml(raw);
  if (outer.Encrypt === undefined) {
    if (ctx.mode === 'safe') throw new Error('safe mode requires an encrypted reply (<Encrypt>, <MsgSignature>)');
    return outer;
  }
  if (!ctx.cipher) throw new Error('encrypted reply, but the emulator has no AES key');
  const { Encrypt, TimeStamp, Nonce, MsgSignature } = outer;
  if (!TimeStamp || !Nonce) throw new Error('encrypted reply lacks <TimeStamp> or <Nonce>');
  return parseXml(openSealed(ctx.cipher, ctx.token, Encrypt, TimeStamp, Nonce, MsgSignature));
}

/** Checks a passive reply the way WeChat would before showing it to the user. */
export async function readPassiveReply(raw: string, ctx: ReplyContext): Promise<PassiveReplyResult> {
  const trimmed = raw.trim();
  // "success" and an empty body mean "no reply", and may be sent unencrypted in any mode (§3, §2.6).
  if (trimmed === '' || trimmed === 'success') return { reply: null, raw };
  try {
    const f = await plaintextFields(trimmed, ctx);
    if (f.ToUserName !== ctx.openid) throw new Error(`reply ToUserName must be the user's openid ${ctx.openid}`);
    if (f.FromUserName !== ctx.account) throw new Error(`reply FromUserName must be the account ${ctx.account}`);
    if (f.MsgType !== 'text') throw new Error(`reply MsgType '${f.MsgType ?? ''}' is not emulated (text only)`);
    if (typeof f.Content !== 'string' || f.Content === '') throw new Error('text reply has no Content');
    return { reply: f.Content, raw };
  } catch (err) {
    return { reply: null, raw, error: (err as Error).message };
  }
}
