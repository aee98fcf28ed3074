import type { EmulatorHandle } from '../../src/emulator';
import { APPID, SECRET, emulator, get, post } from './helpers';

describe('emulator: access tokens', () => {
  let emu: EmulatorHandle;
  const tokenUrl = (q: string) => `${emu.url}/cgi-bin/token?${q}`;
  const list = (token?: string) => get(`${emu.url}/cgi-bin/template/get_all_private_template${token === undefined ? '' : `?access_token=${token}`}`);
  const stable = (body: unknown) => post(`${emu.url}/cgi-bin/stable_token`, body);

  beforeAll(async () => {
    emu = await emulator({ tokenExpiresIn: 7200 });
  });
  afterAll(() => emu.close());
  beforeEach(() => emu.control.reset());

  it('issues a classic token and rejects wrong credentials with WeChat errcodes', async () => {
    const ok = await get(tokenUrl(`grant_type=client_credential&appid=${APPID}&secret=${SECRET}`));
    expect(ok.json).toEqual({ access_token: expect.any(String), expires_in: 7200 });
    expect((await get(tokenUrl(`grant_type=client_credential&appid=wxOTHER&secret=${SECRET}`))).json.errcode).toBe(40013);
    expect((await get(tokenUrl(`grant_type=client_credential&appid=${APPID}&secret=nope`))).json.errcode).toBe(40125);
    expect((await get(tokenUrl(`grant_type=x&appid=${APPID}&secret=${SECRET}`))).json.errcode).toBe(40002);
    const bad = await get(tokenUrl(`grant_type=client_credential&appid=${APPID}&secret=nope`));
    expect(bad.status).toBe(200);
    expect(bad.json.errmsg).toMatch(/^invalid appsecret rid: \S+$/);
  });

  it('checks access_token on every other call: 41001 missing, 40001 invalid, 42001 expired', async () => {
    const { access_token } = (await stable({ grant_type: 'client_credential', appid: APPID, secret: SECRET })).json as { access_token: string };
    expect((await list(access_token)).json).toEqual({ template_list: [] });
    expect((await list()).json.errcode).toBe(41001);
    expect((await list('garbage')).json.errcode).toBe(40001);
    emu.control.advanceClock(7201);
    expect((await list(access_token)).json.errcode).toBe(42001);
  });

  it('stable_token returns the same token while valid and rotates on force_refresh', async () => {
    const creds = { grant_type: 'client_credential', appid: APPID, secret: SECRET };
    const a = (await stable(creds)).json.access_token as string;
    const b = (await stable({ ...creds, force_refresh: false })).json.access_token as string;
    expect(b).toBe(a);
    const c = (await stable({ ...creds, force_refresh: true })).json.access_token as string;
    expect(c).not.toBe(a);
    expect((await list(a)).json.errcode).toBe(40001);
    expect((await list(c)).json.template_list).toEqual([]);
    // In the last 5 minutes a normal call already hands out the next token; the old one lives on.
    emu.control.advanceClock(7200 - 200);
    const d = (await stable(creds)).json.access_token as string;
    expect(d).not.toBe(c);
    expect((await list(c)).json.template_list).toEqual([]);
    expect((await stable({ ...creds, secret: 'x' })).json.errcode).toBe(40125);
    expect((await stable('{not json')).json.errcode).toBe(47001);
  });

  it('a new classic token leaves the previous one valid for 5 minutes only', async () => {
    const q = `grant_type=client_credential&appid=${APPID}&secret=${SECRET}`;
    const first = (await get(tokenUrl(q))).json.access_token as string;
    const second = (await get(tokenUrl(q))).json.access_token as string;
    expect(second).not.toBe(first);
    expect((await list(first)).json.template_list).toEqual([]);
    emu.control.advanceClock(301);
    expect((await list(first)).json.errcode).toBe(42001);
    expect((await list(second)).json.template_list).toEqual([]);
  });

  it('rotateToken and invalidateTokens make issued tokens invalid (40001)', async () => {
    const q = `grant_type=client_credential&appid=${APPID}&secret=${SECRET}`;
    const old = (await get(tokenUrl(q))).json.access_token as string;
    const rotated = emu.control.rotateToken();
    expect((await list(old)).json.errcode).toBe(40001);
    expect((await list(rotated.classic)).json.template_list).toEqual([]);
    // stable_token in normal mode hands out the rotated token.
    expect((await stable({ grant_type: 'client_credential', appid: APPID, secret: SECRET })).json.access_token).toBe(rotated.stable);
    emu.control.invalidateTokens();
    expect((await list(rotated.classic)).json.errcode).toBe(40001);
    const fresh = (await post(`${emu.url}/_emulator/token/rotate`, {})).json as { classic: string };
    expect((await list(fresh.classic)).json.template_list).toEqual([]);
  });

  it('answers a wrong method like WeChat (43001 / 43002)', async () => {
    expect((await post(tokenUrl(`grant_type=client_credential&appid=${APPID}&secret=${SECRET}`), {})).json.errcode).toBe(43001);
    expect((await get(`${emu.url}/cgi-bin/stable_token`)).json.errcode).toBe(43002);
  });
});
