import { randomBytes } from 'node:crypto';
import { WechatCipher } from '../../src/wechat/cipher';
import { wechatSignature } from '../../src/wechat/signature';
import { buildXml } from '../../src/wechat/xml';
import { eventually } from '../helpers/eventually';
import { COMPONENT, MERCHANTS, startPlatformRig, type PlatformRig } from '../helpers/component-rig';

const [A] = MERCHANTS;
const QUERY_AUTH = '/cgi-bin/component/api_query_auth';
const componentCipher = new WechatCipher(COMPONENT.aesKey, COMPONENT.appId);

interface Sealing {
  cipher?: WechatCipher;
  token?: string;
  timestamp?: number;
  tamper?: boolean;
}

/** A push to the authorisation-event URL as WeChat sends it (component token and key), or spoiled as `s` says. */
function sealedEvent(rig: PlatformRig, fields: Record<string, string | number>, s: Sealing = {}): () => Promise<Response> {
  const xml = buildXml({ AppId: COMPONENT.appId, CreateTime: Math.floor(Date.now() / 1000), ...fields });
  const timestamp = String(s.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = String(randomBytes(4).readUInt32BE(0));
  const encrypt = (s.cipher ?? componentCipher).encrypt(xml);
  const signature = wechatSignature([s.token ?? COMPONENT.token, timestamp, nonce, s.tamper ? `${encrypt}x` : encrypt]);
  const query = new URLSearchParams({ signature: wechatSignature([COMPONENT.token, timestamp, nonce]), timestamp, nonce, encrypt_type: 'aes', msg_signature: signature });
  const body = buildXml({ AppId: COMPONENT.appId, Encrypt: encrypt });
  return () => fetch(`${rig.url}/wechat/component?${query}`, { method: 'POST', body, headers: { 'content-type': 'text/xml' } });
}

const queryAuthCalls = (rig: PlatformRig) => rig.emulator.control.component.stats().calls[QUERY_AUTH] ?? 0;

/** The rig with a ticket kept and WeChat's own pushes to the authorisation-event URL switched off (the test sends them). */
async function quietRig(): Promise<PlatformRig> {
  const rig = await startPlatformRig();
  await eventually(async () => (await rig.platform.health()).ticketCreateTime !== null);
  rig.emulator.control.component.setAuthEventUrl(undefined);
  return rig;
}

/** A merchant consents; the emulator's push is not delivered, so the code is the test's to push. */
async function consentCode(rig: PlatformRig, appid: string): Promise<string> {
  return (await rig.emulator.control.component.authorize(appid)).authCode;
}

describe('the authorisation-event URL', () => {
  let rig: PlatformRig;
  beforeEach(async () => {
    rig = await quietRig();
  });
  afterEach(async () => {
    await rig.close();
  });

  it('an authorisation push WeChat sends again (or twice at once) is applied once, each answered success', async () => {
    const code = await consentCode(rig, A.appId);
    const push = sealedEvent(rig, { InfoType: 'authorized', AuthorizerAppid: A.appId, AuthorizationCode: code, AuthorizationCodeExpiredTime: 1, PreAuthCode: 'preauthcode@@@x' });
    const answers = await Promise.all([push(), push(), push()]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(await Promise.all(answers.map((r) => r.text()))).toEqual(['success', 'success', 'success']);
    await rig.platform.settled();
    expect((await push()).status).toBe(200);
    await rig.platform.settled();
    expect(queryAuthCalls(rig)).toBe(1);
    expect(rig.events).toEqual([`authorized ${A.appId}`]);
    expect(await rig.platform.isAuthorized(A.appId)).toBe(true);
  });

  it('unauthorized switches the merchant off once, however often it comes', async () => {
    const code = await consentCode(rig, A.appId);
    await sealedEvent(rig, { InfoType: 'authorized', AuthorizerAppid: A.appId, AuthorizationCode: code })();
    await rig.platform.settled();
    const revoked = sealedEvent(rig, { InfoType: 'unauthorized', AuthorizerAppid: A.appId });
    expect(await (await revoked()).text()).toBe('success');
    expect(await (await revoked()).text()).toBe('success');
    await rig.platform.settled();
    expect(rig.events).toEqual([`authorized ${A.appId}`, `unauthorized ${A.appId}`]);
    expect(await rig.platform.isAuthorized(A.appId)).toBe(false);
  });

  it('pushes that are not provably from WeChat, or not for this platform, change nothing', async () => {
    const code = await consentCode(rig, A.appId);
    const fields = { InfoType: 'authorized', AuthorizerAppid: A.appId, AuthorizationCode: code };
    const foreign = new WechatCipher(COMPONENT.aesKey, 'wxf0f0f0f0f0f0f0f0');
    const cases: [Sealing, Record<string, string | number>, number][] = [
      [{ tamper: true }, fields, 401],
      [{ token: 'not-the-component-token' }, fields, 401],
      [{ cipher: foreign }, fields, 401],
      [{ timestamp: Math.floor(Date.now() / 1000) - 3600 }, fields, 403],
      [{}, { ...fields, AppId: 'wxf0f0f0f0f0f0f0f0' }, 400],
      [{}, { InfoType: 'authorized', AuthorizerAppid: A.appId }, 400],
    ];
    for (const [sealing, f, status] of cases) {
      const res = await sealedEvent(rig, f, sealing)();
      expect([res.status, await res.text()]).toEqual([status, expect.any(String)]);
    }
    await rig.platform.settled();
    expect(queryAuthCalls(rig)).toBe(0);
    expect(await rig.platform.authorizers()).toEqual([]);
    expect(rig.logs()).toContain('platform push rejected');
  });

  it('an InfoType wxreach does not act on is answered success and logged', async () => {
    const res = await sealedEvent(rig, { InfoType: 'notify_third_fasteregister', appid: 'wx0123', status: 0 })();
    expect(await res.text()).toBe('success');
    await rig.platform.settled();
    expect(rig.logs()).toContain('notify_third_fasteregister');
  });

  it('ticket pushes: the newest is kept, a late older one is answered success and ignored', async () => {
    const newer = Math.floor(Date.now() / 1000) + 60;
    expect(await (await sealedEvent(rig, { InfoType: 'component_verify_ticket', CreateTime: newer, ComponentVerifyTicket: 'ticket@@@newer' })()).text()).toBe('success');
    expect(await (await sealedEvent(rig, { InfoType: 'component_verify_ticket', CreateTime: newer - 600, ComponentVerifyTicket: 'ticket@@@older' })()).text()).toBe('success');
    expect(JSON.parse((await rig.kv.getValue('component:verify_ticket')) as string)).toEqual({ ticket: 'ticket@@@newer', createTime: newer });
  });
});

describe('the authorisation callback', () => {
  let rig: PlatformRig;
  beforeEach(async () => {
    rig = await quietRig();
  });
  afterEach(async () => {
    await rig.close();
  });

  const callback = (code: string | null, next: string | null) => {
    const q = new URLSearchParams();
    if (code !== null) q.set('auth_code', code);
    if (next !== null) q.set('next', next);
    return fetch(`${rig.url}/wechat/component/callback?${q}`, { redirect: 'manual' });
  };

  it('completes the authorisation whether or not the push came first, and sends the browser on', async () => {
    const code = await consentCode(rig, A.appId);
    await sealedEvent(rig, { InfoType: 'authorized', AuthorizerAppid: A.appId, AuthorizationCode: code })();
    await rig.platform.settled();
    const res = await callback(code, 'https://saas.example/welcome');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`https://saas.example/welcome?authorizer_appid=${A.appId}`);
    expect(queryAuthCalls(rig)).toBe(1);
    expect(rig.events).toEqual([`authorized ${A.appId}`]);
  });

  it('refuses what it cannot complete, with a reason, and stores nothing', async () => {
    const code = await consentCode(rig, A.appId);
    const cases: [string | null, string | null, RegExp][] = [
      [code, 'javascript:alert(1)', /next.*http\(s\)/],
      [code, null, /next.*http\(s\)/],
      [null, 'https://saas.example/', /missing auth_code/],
      ['queryauthcode@@@never-issued', 'https://saas.example/', /cannot be used/],
    ];
    for (const [c, next, why] of cases) {
      const res = await callback(c, next);
      expect(res.status).toBe(400);
      expect(await res.text()).toMatch(why);
    }
    expect(await rig.platform.authorizers()).toEqual([]);
    expect(rig.events).toEqual([]);
  });
});
