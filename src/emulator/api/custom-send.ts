import { ERRCODE } from '../../wechat/errcodes';
import { TEXT_LIMIT_BYTES } from '../../wechat/text-limit';
import type { Account } from '../account';
import { consumeAllowance } from '../cs-window';
import { WX_OK, wxError } from '../wx-errors';
import { jsonObject, type ApiRequest } from './types';

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function field(b: Record<string, unknown>, name: string): Record<string, unknown> | undefined {
  const v = b[name];
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** The text the user sees for an accepted message, or the errcode that rejects it. */
function shownText(b: Record<string, unknown>): string | number {
  switch (b.msgtype) {
    case 'text': {
      const content = str(field(b, 'text')?.content);
      if (content === '') return ERRCODE.EMPTY_CONTENT;
      return Buffer.byteLength(content, 'utf8') > TEXT_LIMIT_BYTES ? ERRCODE.CONTENT_TOO_LONG : content;
    }
    case 'news': {
      const articles = field(b, 'news')?.articles;
      if (!Array.isArray(articles) || articles.length === 0) return ERRCODE.EMPTY_CONTENT;
      if (articles.length > 1) return ERRCODE.TOO_MANY_ARTICLES;
      const a = (articles[0] ?? {}) as Record<string, unknown>;
      return `[news] ${str(a.title)}${a.url ? ` ${str(a.url)}` : ''}`;
    }
    case 'miniprogrampage': {
      const p = field(b, 'miniprogrampage');
      if (!p || !str(p.appid) || !str(p.pagepath)) return ERRCODE.EMPTY_CONTENT;
      return `[miniprogrampage] ${str(p.title)}`;
    }
    default:
      return ERRCODE.INVALID_MESSAGE_TYPE;
  }
}

/**
 * POST /cgi-bin/message/custom/send (text, news, miniprogrampage). Precedence: 47001 → 40003 →
 * message errors (40008/44004/45002/45008, so a bad message never uses the window) → 45015/45047 → ok.
 */
export function customSend(account: Account, req: ApiRequest): string {
  const b = jsonObject(req.body);
  if (!b) return wxError(ERRCODE.DATA_FORMAT_ERROR, req.rid);
  const user = typeof b.touser === 'string' ? account.state.users.get(b.touser) : undefined;
  if (!user) return wxError(ERRCODE.INVALID_OPENID, req.rid);
  const text = shownText(b);
  if (typeof text === 'number') return wxError(text, req.rid);
  const windowCode = consumeAllowance(user, account.clock.now());
  if (windowCode) return wxError(windowCode, req.rid);
  user.inbox.push({ at: account.clock.iso(), channel: 'customer_service', text });
  return WX_OK;
}
