import { promisify } from 'node:util';
import WechatAPI from 'wechat-api';
import type { EmulatorHandle } from '../../src/emulator';
import { APPID, CallbackSink, SECRET, emulator, xmlFields } from './helpers';

// The third-party client (dev dependency only) talks to the emulator unchanged: real-client
// compatibility. It also shows why wxreach has its own client: msgid goes through JSON.parse.
describe('emulator with the wechat-api client', () => {
  let emu: EmulatorHandle;
  let sink: CallbackSink;

  beforeAll(async () => {
    sink = await new CallbackSink().start();
    emu = await emulator({ callbackUrl: sink.url });
    emu.control.addUser({ openid: 'oAPI' });
    emu.control.addTemplate({ template_id: 'TPL_API', title: '通知', content: '{{first.DATA}}\n内容：{{keyword1.DATA}}\n{{remark.DATA}}' });
  });
  afterAll(async () => {
    await emu.close();
    await sink.close();
  });

  it('gets a token and sends a template; the msgid it returns has lost precision', async () => {
    const api = new WechatAPI(APPID, SECRET);
    api.endpoint = emu.url;
    api.setOpts({ timeout: 5000 });
    const token = await promisify(api.getLatestToken).bind(api)();
    expect(token.accessToken.length).toBeGreaterThan(20);

    const sendTemplate = promisify(api.sendTemplate).bind(api);
    const result = await sendTemplate('oAPI', 'TPL_API', 'https://example.com/x', { keyword1: { value: '你好' } });
    expect(result.errcode).toBe(0);

    // The exact msgid, as written in the raw answer body, is also the receipt's MsgID and the inbox's msgid.
    const [receipt] = await sink.waitFor(1);
    const exact = xmlFields(receipt.body).MsgID;
    expect(exact).toMatch(/^\d{19}$/);
    expect(typeof result.msgid).toBe('number');
    expect(String(BigInt(result.msgid))).not.toBe(exact);
    expect(BigInt(result.msgid) - BigInt(exact)).not.toBe(0n);
    expect(Number.isSafeInteger(result.msgid)).toBe(false);
    expect(emu.control.inbox('oAPI')).toEqual([expect.objectContaining({ msgid: exact, text: '通知\n内容：你好' })]);

    const sendText = promisify(api.sendText).bind(api);
    await expect(sendText('oAPI', 'hi')).rejects.toMatchObject({ name: 'WeChatAPIError', code: 45015 });
  });
});
