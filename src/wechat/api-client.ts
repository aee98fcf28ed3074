import { WechatApiError, WechatTransportError } from './api-errors';
import { TOKEN_ERRCODES } from './errcodes';
import type { JsonHttp, JsonObject } from './http-json';
import type { AccessTokens } from './access-tokens';

/** The paths of the two sends, as errors, call records and `openapi/quota/get` name them. */
export const TEMPLATE_SEND_PATH = '/cgi-bin/message/template/send';
export const CUSTOM_SEND_PATH = '/cgi-bin/message/custom/send';

export interface TemplateMessage {
  touser: string;
  template_id: string;
  url?: string;
  miniprogram?: { appid: string; pagepath: string };
  /** Anti-reentry id: WeChat sends one message per openid + client_msg_id within 10 minutes. */
  client_msg_id?: string;
  data: Record<string, { value: string; color?: string }>;
}

export interface PrivateTemplate {
  template_id: string;
  title: string;
  content: string;
}

/** An API's daily quota as `openapi/quota/get` tells it (resets at midnight China time). */
export interface ApiQuota {
  dailyLimit: number;
  used: number;
  remaining: number;
}

/**
 * The WeChat API calls wxreach makes, typed. Every call carries the shared access token; an
 * answer saying the token is bad invalidates it (once for all callers) and the call is retried
 * once with a fresh one. Other errcodes are thrown as WechatApiError for the caller to decide.
 */
export class WechatApiClient {
  constructor(
    private readonly http: JsonHttp,
    private readonly tokens: AccessTokens,
  ) {}

  /** Returns the msgid as its exact decimal string. */
  async sendTemplate(message: TemplateMessage): Promise<string> {
    const answer = await this.call('POST', TEMPLATE_SEND_PATH, message);
    const msgid = answer.msgid;
    if (typeof msgid !== 'string' || !/^\d+$/.test(msgid)) {
      throw new WechatTransportError(TEMPLATE_SEND_PATH, 'maybe', 'success answer without a numeric msgid');
    }
    return msgid;
  }

  async sendText(openid: string, content: string): Promise<void> {
    await this.call('POST', CUSTOM_SEND_PATH, { touser: openid, msgtype: 'text', text: { content } });
  }

  async listTemplates(): Promise<PrivateTemplate[]> {
    const answer = await this.call('GET', '/cgi-bin/template/get_all_private_template');
    const list = Array.isArray(answer.template_list) ? (answer.template_list as JsonObject[]) : [];
    return list
      .filter((t) => typeof t.template_id === 'string')
      .map((t) => ({ template_id: String(t.template_id), title: String(t.title ?? ''), content: String(t.content ?? '') }));
  }

  /** Adds a template from the library by its short id; returns the new template id. */
  async addTemplate(shortId: string): Promise<string> {
    const answer = await this.call('POST', '/cgi-bin/template/api_add_template', { template_id_short: shortId });
    if (typeof answer.template_id !== 'string') throw new WechatTransportError('/cgi-bin/template/api_add_template', 'maybe', 'no template_id in the answer');
    return answer.template_id;
  }

  /**
   * Today's quota of the template send API: `POST /cgi-bin/openapi/quota/get` with `{ cgi_path }`
   * answers `{ errcode: 0, quota: { daily_limit, used, remain } }` (as WxJava and
   * SKIT.FlurlHttpClient.Wechat read it).
   */
  async templateQuota(): Promise<ApiQuota> {
    const path = '/cgi-bin/openapi/quota/get';
    const quota = (await this.call('POST', path, { cgi_path: TEMPLATE_SEND_PATH })).quota as JsonObject | undefined;
    const [dailyLimit, used, remaining] = [quota?.daily_limit, quota?.used, quota?.remain].map(Number);
    if (![dailyLimit, used, remaining].every(Number.isFinite)) throw new WechatTransportError(path, 'maybe', 'no quota in the answer');
    return { dailyLimit, used, remaining };
  }

  private async call(method: 'GET' | 'POST', path: string, body?: unknown, retried = false): Promise<JsonObject> {
    const token = await this.tokens.get();
    const answer = await this.http.call(method, `${path}?access_token=${encodeURIComponent(token)}`, body);
    const errcode = Number(answer.errcode ?? 0);
    if (errcode === 0) return answer;
    if (TOKEN_ERRCODES.has(errcode) && !retried) {
      await this.tokens.invalidate(token);
      return this.call(method, path, body, true);
    }
    throw new WechatApiError(errcode, String(answer.errmsg ?? ''), path);
  }
}
