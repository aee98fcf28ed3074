import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RELEASE_TEST_ACCOUNTS, type EmulatorHandle, type ReleaseReport } from '../../src/emulator';
import { WechatCipher } from '../../src/wechat/cipher';
import { openSealed } from '../../src/wechat/envelope';
import { replyBody, textReply } from '../../src/wechat/replies';
import { parseXml } from '../../src/wechat/xml';
import { CallbackSink, COMPONENT, emulator, post } from './helpers';

/**
 * A fixture standing in for a platform that passes WeChat's release check: it keeps the ticket,
 * replies `<text>_callback` / `<Event>from_callback`, and answers `QUERY_AUTH_CODE:` empty, then
 * exchanges the code and sends `<code>_from_api` by customer-service message.
 */
async function correctReceiver(emuUrl: () => string): Promise<{ url: string; server: Server }> {
  const cipher = new WechatCipher(COMPONENT.aesKey, COMPONENT.appId);
  let ticket = '';
  const call = async (path: string, body: Record<string, unknown>) => (await post(`${emuUrl()}${path}`, body)).json;
  const fromApi = async (code: string, openid: string) => {
    const { component_access_token } = await call('/cgi-bin/component/api_component_token', { component_appid: COMPONENT.appId, component_appsecret: COMPONENT.appSecret, component_verify_ticket: ticket });
    const auth = await call(`/cgi-bin/component/api_query_auth?component_access_token=${component_access_token}`, { component_appid: COMPONENT.appId, authorization_code: code });
    const token = (auth.authorization_info as { authorizer_access_token: string }).authorizer_access_token;
    await call(`/cgi-bin/message/custom/send?access_token=${token}`, { touser: openid, msgtype: 'text', text: { content: `${code}_from_api` } });
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const q = new URL(req.url ?? '/', 'http://x').searchParams;
      const timestamp = q.get('timestamp') ?? '';
      const outer = await parseXml(Buffer.concat(chunks).toString('utf8'));
      const f = await parseXml(openSealed(cipher, COMPONENT.token, outer.Encrypt, timestamp, q.get('nonce') ?? '', q.get('msg_signature')));
      const reply = (content: string) => res.end(replyBody(textReply({ openid: f.FromUserName, account: f.ToUserName }, content, Date.now()), { cipher, token: COMPONENT.token, timestamp }));
      if (f.InfoType) {
        if (f.ComponentVerifyTicket) ticket = f.ComponentVerifyTicket;
        return res.end('success');
      }
      if (f.MsgType === 'event') return reply(`${f.Event}from_callback`);
      if (!f.Content.startsWith('QUERY_AUTH_CODE:')) return reply(`${f.Content}_callback`);
      res.end('');
      void fromApi(f.Content.slice('QUERY_AUTH_CODE:'.length), f.FromUserName);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('emulator: the full-network release check', () => {
  let emu: EmulatorHandle;

  beforeAll(async () => {
    emu = await emulator({ component: COMPONENT });
  });
  afterAll(() => emu.close());
  beforeEach(() => emu.control.reset());

  it('passes against a receiver that does what WeChat asks', async () => {
    const receiver = await correctReceiver(() => emu.url);
    try {
      emu.control.component.setAuthEventUrl(`${receiver.url}/component`);
      emu.control.component.setMessageUrl(`${receiver.url}/wechat/$APPID$`);
      const report = (await post(`${emu.url}/_emulator/component/release-test`, {})).json as unknown as ReleaseReport;
      expect(report.checks).toEqual(['ticket', 'authorized', 'text', 'api', 'event'].map((name) => ({ name, pass: true, detail: expect.any(String) })));
      expect(report.pass).toBe(true);
      expect(RELEASE_TEST_ACCOUNTS.map((t) => t.appId)).toContain(report.appId);
      expect(emu.control.component.status().authorizers).toEqual([expect.objectContaining({ appId: report.appId, authorized: true })]);
      // The test account was authorised once, with the code the check then sent as QUERY_AUTH_CODE.
      const authorized = emu.control.component.authEvents().filter((e) => e.fields.InfoType === 'authorized');
      expect(authorized).toEqual([expect.objectContaining({ delivered: true, answer: 'success', fields: expect.objectContaining({ AuthorizerAppid: report.appId }) })]);
      expect(report.checks[3].detail).toContain(`${authorized[0].fields.AuthorizationCode}_from_api`);
    } finally {
      emu.control.component.setAuthEventUrl(undefined);
      await new Promise((resolve) => receiver.server.close(resolve));
    }
  });

  it('fails each check a receiver gets wrong, and every check without URLs', async () => {
    const wrong = await new CallbackSink().start();
    try {
      // Answers "ok" to events and a plaintext text to every message (a passive reply must be encrypted).
      wrong.respond = (r) => ({ body: r.path.endsWith('/component') ? 'ok' : '<xml><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content></xml>' });
      emu.control.component.setAuthEventUrl(`${wrong.url}/component`);
      emu.control.component.setMessageUrl(`${wrong.url}/$APPID$`);
      const report = await emu.control.component.releaseTest({ appId: 'wx9252c5e0bb1836fc' });
      expect(report).toMatchObject({ pass: false, appId: 'wx9252c5e0bb1836fc' });
      expect(report.checks).toEqual([
        { name: 'ticket', pass: false, detail: 'answered "ok", expected success' },
        { name: 'authorized', pass: false, detail: 'answered "ok", expected success' },
        { name: 'text', pass: false, detail: expect.stringMatching(/^safe mode requires an encrypted reply.*; expected the encrypted passive text TESTCOMPONENT_MSG_TYPE_TEXT_callback$/) },
        { name: 'api', pass: false, detail: expect.stringMatching(/^answered "<xml>.*; expected an empty answer$/) },
        { name: 'event', pass: false, detail: expect.stringMatching(/; expected the encrypted passive text LOCATIONfrom_callback$/) },
      ]);
      // The check reached the receiver for real: two events and three messages to the test account's URL.
      expect(wrong.received.filter((r) => r.path === '/wechat/wx9252c5e0bb1836fc')).toHaveLength(3);
    } finally {
      await wrong.close();
    }
    emu.control.component.setAuthEventUrl(undefined);
    emu.control.component.setMessageUrl(undefined);
    const bare = await emu.control.component.releaseTest();
    expect(bare.pass).toBe(false);
    expect(bare.checks.map((c) => [c.name, c.pass, c.detail])).toEqual([
      ['ticket', false, 'no authorisation-event URL configured'],
      ['authorized', false, 'no authorisation-event URL configured'],
      ['text', false, 'no callback URL configured; expected the encrypted passive text TESTCOMPONENT_MSG_TYPE_TEXT_callback'],
      ['api', false, 'no callback URL configured; expected an empty answer'],
      ['event', false, 'no callback URL configured; expected the encrypted passive text LOCATIONfrom_callback'],
    ]);
  });
});
