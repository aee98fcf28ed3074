// Minimal types for the dev-only `wechat-api` 1.35.1 (no bundled or @types typings); only what
// the emulator compatibility test calls. Callback style, as the library is.
declare module 'wechat-api' {
  type Callback<T> = (err: Error | null, data: T) => void;

  interface TemplateData {
    [name: string]: { value: string; color?: string };
  }

  class WechatAPI {
    constructor(appid: string, appsecret: string);
    /** Plain field; setEndpoint() would force https://. */
    endpoint: string;
    setOpts(opts: { timeout?: number }): void;
    getLatestToken(callback: Callback<{ accessToken: string; expireTime: number }>): void;
    sendTemplate(openid: string, templateId: string, url: string | null, data: TemplateData, callback: Callback<{ errcode: number; errmsg: string; msgid: number }>): void;
    sendText(openid: string, text: string, callback: Callback<{ errcode: number; errmsg: string }>): void;
    getAllPrivateTemplate(callback: Callback<{ template_list: { template_id: string; title: string }[] }>): void;
  }

  export = WechatAPI;
}
