import type { EmulatorCore } from '../core';
import { consumeAllowance } from '../cs-window';
import { WX_OK, wxError } from '../wx-errors';
import { jsonObject, type ApiRequest } from './types';

/** No documented limit; Senparc observed about 2048 bytes (reference §6.1). */
const MAX_TEXT_BYTES = 2048;

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
      if (content === '') return 44004;
      return Buffer.byteLength(content, 'utf8') > MAX_TEXT_BYTES ? 45002 : content;
    }
    case 'news': {
      const articles = field(b, 'news')?.articles;
      if (!Array.isArray(articles) || articles.length === 0) return 44004;
      if (articles.length > 1) return 45008;
      const a = (articles[0] ?? {}) as Record<string, unknown>;
      return `[news] ${str(a.title)}${a.url ? ` ${str(a.url)}` : ''}`;
    }
    case 'miniprogrampage': {
      const p = field(b, 'miniprogrampage');
      if (!p || !str(p.appid) || !str(p.pagepath)) return 44004;
      return `[miniprogrampage] ${str(p.title)}`;
    }
    default:
      return 40008;
  }
}

/**
 * POST /cgi-bin/message/custom/send (text, news, miniprogrampage). Precedence: 47001 → 40003 →
 * message errors (40008/44004/45002/45008, so a bad message never uses the window) → 45015/45047 → ok.
 */
export function customSend(core: EmulatorCore, req: ApiRequest): string {
  const b = jsonObject(req.body);
  if (!b) return wxError(47001, req.rid);
  const user = typeof b.touser === 'string' ? core.state.users.get(b.touser) : undefined;
  if (!user) return wxError(40003, req.rid);
  const text = shownText(b);
  if (typeof text === 'number') return wxError(text, req.rid);
  const windowCode = consumeAllowance(user, core.clock.now());
  if (windowCode) return wxError(windowCode, req.rid);
  user.inbox.push({ at: core.clock.iso(), channel: 'customer_service', text });
  return WX_OK;
}
