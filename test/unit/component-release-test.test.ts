import { WechatApiError } from '../../src/wechat/api-errors';
import { BackgroundTasks } from '../../src/wechat/component/background';
import { RELEASE_TEST_ACCOUNTS, ReleaseTest } from '../../src/wechat/component/release-test';
import { parsePush } from '../../src/wechat/push';
import { buildXml, parseXml } from '../../src/wechat/xml';
import { capturedLogger } from '../helpers/logs';

const USER = 'oTestUser0000000000000000001';
const OTHER = { appid: 'wxa1a1a1a1a1a1a1a1', userName: 'gh_a1a1a1a1a1a1' };

/** A message or event to `userName` as the release test sends it. */
function pushXml(userName: string, fields: Record<string, string>): string {
  return buildXml({ ToUserName: userName, FromUserName: USER, CreateTime: 1700000000, ...fields });
}

function rig(exchange: (code: string) => Promise<unknown> = async () => undefined) {
  const { log, text } = capturedLogger();
  const tasks = new BackgroundTasks(log);
  const did: string[] = [];
  const test = new ReleaseTest({
    exchange: async (code) => {
      did.push(`exchange ${code}`);
      return exchange(code);
    },
    sendText: async (appid, openid, t) => void did.push(`send ${appid} ${openid} ${t}`),
    tasks,
    log,
    now: () => 1700000005000,
  });
  const handle = async (appid: string, userName: string, fields: Record<string, string>) => {
    const xml = pushXml(userName, fields);
    return test.handle(appid, parsePush(await parseXml(xml)), xml);
  };
  return { handle, did, tasks, logs: text };
}

const TEXT = { MsgType: 'text', Content: 'TESTCOMPONENT_MSG_TYPE_TEXT', MsgId: '1' };
const CODE = { MsgType: 'text', Content: 'QUERY_AUTH_CODE:queryauthcode@@@Z9:x', MsgId: '2' };
const LOCATION = { MsgType: 'event', Event: 'LOCATION', Latitude: '23.1', Longitude: '113.3', Precision: '119' };

describe('release test', () => {
  it("leaves every other account's messages alone, the test's own texts included", async () => {
    const r = rig();
    for (const fields of [TEXT, CODE, LOCATION, { MsgType: 'text', Content: 'hello', MsgId: '3' }]) {
      expect(await r.handle(OTHER.appid, OTHER.userName, fields)).toBeNull();
    }
    await r.tasks.settled();
    expect(r.did).toEqual([]);
  });

  it.each([...RELEASE_TEST_ACCOUNTS])('test account %s: the test text gets its passive reply, an event `<Event>from_callback`', async (appid, userName) => {
    const r = rig();
    const reply = await parseXml((await r.handle(appid, userName, TEXT)) as string);
    expect(reply).toMatchObject({ ToUserName: USER, FromUserName: userName, MsgType: 'text', Content: 'TESTCOMPONENT_MSG_TYPE_TEXT_callback' });
    expect(await parseXml((await r.handle(appid, userName, LOCATION)) as string)).toMatchObject({ ToUserName: USER, Content: 'LOCATIONfrom_callback' });
    expect(await parseXml((await r.handle(appid, userName, { MsgType: 'event', Event: 'subscribe' })) as string)).toMatchObject({ Content: 'subscribefrom_callback' });
    expect(await r.handle(appid, userName, { MsgType: 'text', Content: 'something else', MsgId: '4' })).toBe('');
  });

  it('QUERY_AUTH_CODE is answered empty at once, then the code is exchanged and `<code>_from_api` sent to the sender', async () => {
    const r = rig();
    const [appid, userName] = [...RELEASE_TEST_ACCOUNTS][2];
    expect(await r.handle(appid, userName, CODE)).toBe('');
    await r.tasks.settled();
    expect(r.did).toEqual(['exchange queryauthcode@@@Z9:x', `send ${appid} ${USER} queryauthcode@@@Z9:x_from_api`]);
  });

  it('a code the authorised push already used (61009) still gets its answer, with the stored token', async () => {
    const r = rig(async () => {
      throw new WechatApiError(61009, 'invalid authorization code', '/cgi-bin/component/api_query_auth');
    });
    const [appid, userName] = [...RELEASE_TEST_ACCOUNTS][0];
    expect(await r.handle(appid, userName, CODE)).toBe('');
    await r.tasks.settled();
    expect(r.did).toEqual(['exchange queryauthcode@@@Z9:x', `send ${appid} ${USER} queryauthcode@@@Z9:x_from_api`]);
    expect(r.logs()).toContain('using the stored token');
  });
});
