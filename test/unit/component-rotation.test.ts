import { WechatApiClient } from '../../src/wechat/api-client';
import { Authorizers, REFRESH_OVERLAP_MS, type Authorizer } from '../../src/wechat/component/authorizers';
import type { ComponentApi } from '../../src/wechat/component/component-api';
import { capturedLogger } from '../helpers/logs';
import { failingOnce, testKv, type TestKv } from '../helpers/component-kv';
import { eventually } from '../helpers/eventually';
import { MERCHANTS, startPlatformRig } from '../helpers/component-rig';

const [A] = MERCHANTS;
const DIRECTORY = 'component:authorizers';

const stored = async (kv: TestKv, appid: string) => JSON.parse((await kv.getHash(DIRECTORY))[appid]) as Omit<Authorizer, 'appid'>;

describe('refresh-token rotation', () => {
  it('a rotated refresh token is stored before its access token is used: a store failure in between hands nothing out, and the next fetch recovers', async () => {
    let kv: ReturnType<typeof failingOnce<'setHash'>> | undefined;
    const rig = await startPlatformRig({ wrapKv: (plain) => (kv = failingOnce(plain, 'setHash')) });
    try {
      const store = kv!;
      await eventually(async () => (await rig.platform.health()).ticketCreateTime !== null);
      await rig.emulator.control.component.authorize(A.appId);
      await eventually(() => rig.platform.isAuthorized(A.appId));
      await rig.platform.settled();
      const tokens = rig.platform.tokensFor(A.appId);
      const first = await tokens.get();
      const issued = (await stored(rig.kv, A.appId)).refreshToken;
      const wechatCurrent = () => rig.emulator.control.component.status().authorizers.find((a) => a.appId === A.appId)?.refreshToken;

      // Past the access token's 2 hours, so nothing usable is left to fall back on.
      rig.emulator.control.advanceClock(7200);
      rig.advance(7200);
      store.arm();
      await expect(tokens.get()).rejects.toThrow('injected store failure in setHash');
      expect(store.fired()).toBe(1);
      const rotatedAtWechat = wechatCurrent();
      expect(rotatedAtWechat).not.toBe(issued); // WeChat did rotate…
      expect((await stored(rig.kv, A.appId)).refreshToken).toBe(issued); // …but it was not stored, so…
      const shared = JSON.parse((await rig.kv.getValue(`component:authorizer_token:${A.appId}`)) as string) as { token: string };
      expect(shared.token).toBe(first); // …its access token went nowhere.

      rig.advance(3); // past the failure cooldown; the old refresh token is inside WeChat's 5-minute overlap
      const second = await tokens.get();
      const record = await stored(rig.kv, A.appId);
      expect(record.refreshToken).toBe(wechatCurrent());
      expect(record.previousRefreshToken).toBe(issued);
      const merchant = rig.emulator.control.account(A.appId);
      merchant.addUser({ openid: 'oUserOfA', subscribed: true });
      await merchant.userSendsText('oUserOfA', 'hi');
      await new WechatApiClient(rig.http, { get: async () => second, invalidate: async () => undefined, lastError: null, health: async () => ({ refreshes24h: 0, refusal: null }) }).sendText('oUserOfA', 'after the failure');
      expect(merchant.inbox('oUserOfA').map((e) => e.text)).toEqual(['after the failure']);
    } finally {
      await rig.close();
    }
  });
});

describe('the directory', () => {
  let kv: TestKv;
  let directory: Authorizers;
  let clock = 1_700_000_000_000;
  const { log } = capturedLogger('error');

  beforeEach(async () => {
    kv = await testKv();
    // Only the API-free changes are exercised here: the API is never called.
    directory = new Authorizers({ kv, api: {} as ComponentApi, log, now: () => clock, onSecret: () => undefined });
    await directory.restore({ appid: A.appId, refreshToken: 'refreshtoken@@@R1', authTime: 1_700_000_000 });
  });
  afterEach(async () => {
    await kv.close();
  });

  it('rotation is a compare-and-set: the old token is kept for its overlap, and a stale one changes nothing', async () => {
    clock += 1000;
    expect(await directory.rotate(A.appId, 'refreshtoken@@@R1', 'refreshtoken@@@R2')).toBe(true);
    expect(await stored(kv, A.appId)).toMatchObject({ refreshToken: 'refreshtoken@@@R2', previousRefreshToken: 'refreshtoken@@@R1', previousUntil: clock + REFRESH_OVERLAP_MS });
    expect(await directory.rotate(A.appId, 'refreshtoken@@@R1', 'refreshtoken@@@OLDER')).toBe(false);
    expect((await stored(kv, A.appId)).refreshToken).toBe('refreshtoken@@@R2');
  });

  it('of many instances rotating from the same token at once, exactly one wins', async () => {
    const others = Array.from({ length: 8 }, () => new Authorizers({ kv, api: {} as ComponentApi, log, now: () => clock, onSecret: () => undefined }));
    const won = await Promise.all(others.map((d, i) => d.rotate(A.appId, 'refreshtoken@@@R1', `refreshtoken@@@N${i}`)));
    expect(won.filter(Boolean)).toHaveLength(1);
    expect((await stored(kv, A.appId)).refreshToken).toBe(`refreshtoken@@@N${won.indexOf(true)}`);
  });

  it('a revoked account loses its refresh tokens and is not rotated back', async () => {
    expect(await directory.revoke(A.appId)).toBe(true);
    expect(await directory.revoke(A.appId)).toBe(false);
    expect(await stored(kv, A.appId)).toMatchObject({ state: 'revoked', refreshToken: '', previousRefreshToken: '' });
    expect(await directory.rotate(A.appId, '', 'refreshtoken@@@R9')).toBe(false);
  });
});
