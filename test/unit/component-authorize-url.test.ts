import { eventually } from '../helpers/eventually';
import { COMPONENT, startPlatformRig, type PlatformRig } from '../helpers/component-rig';

const PRE_AUTH = '/cgi-bin/component/api_create_preauthcode';

const preAuthCalls = (rig: PlatformRig) => rig.emulator.control.component.stats().calls[PRE_AUTH] ?? 0;

async function authorizeUrl(rig: PlatformRig, next: string | null): Promise<{ status: number; body: Record<string, unknown> }> {
  const q = next === null ? '' : `?next=${encodeURIComponent(next)}`;
  const res = await fetch(`${rig.url}/v1/component/authorize-url${q}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('authorisation links', () => {
  it("are WeChat's componentloginpage with a fresh pre_auth_code and wxreach's callback carrying `next`", async () => {
    const rig = await startPlatformRig({ publicUrl: 'https://wxreach.example.com/' });
    try {
      await eventually(async () => (await rig.platform.health()).ticketCreateTime !== null);
      const next = 'https://saas.example/shops/42?step=wechat&x=a b';
      const [one, two] = [await authorizeUrl(rig, next), await authorizeUrl(rig, next)];
      expect([one.status, two.status]).toEqual([200, 200]);
      const url = new URL(one.body.url as string);
      expect(url.origin + url.pathname).toBe(`${rig.emulator.url}/cgi-bin/componentloginpage`);
      expect([...url.searchParams.keys()].sort()).toEqual(['auth_type', 'component_appid', 'pre_auth_code', 'redirect_uri']);
      expect(url.searchParams.get('component_appid')).toBe(COMPONENT.appId);
      expect(url.searchParams.get('auth_type')).toBe('1');
      expect(url.searchParams.get('pre_auth_code')).toMatch(/^preauthcode@@@/);
      expect(new URL(two.body.url as string).searchParams.get('pre_auth_code')).not.toBe(url.searchParams.get('pre_auth_code'));
      const redirect = new URL(url.searchParams.get('redirect_uri') as string);
      expect(redirect.origin + redirect.pathname).toBe('https://wxreach.example.com/wechat/component/callback');
      expect(redirect.searchParams.get('next')).toBe(next);
      expect(preAuthCalls(rig)).toBe(2);
      // WeChat's page (the emulator's) takes the link as it is.
      expect((await fetch(url)).status).toBe(200);
    } finally {
      await rig.close();
    }
  });

  it('refuse a `next` that is not an http(s) URL, before asking WeChat for anything', async () => {
    const rig = await startPlatformRig();
    try {
      for (const next of [null, '', '/relative/path', 'javascript:alert(1)', 'ftp://files.example/', 'not a url']) {
        const { status, body } = await authorizeUrl(rig, next);
        expect(status).toBe(400);
        expect(body).toEqual({ error: { code: 'invalid_request', message: expect.stringMatching(/next.*http\(s\)/), details: [{ field: 'next', message: expect.any(String) }] } });
      }
      expect(preAuthCalls(rig)).toBe(0);
    } finally {
      await rig.close();
    }
  });

  it('need publicUrl: without it the answer says so', async () => {
    const rig = await startPlatformRig({ publicUrl: null });
    try {
      const { status, body } = await authorizeUrl(rig, 'https://saas.example/');
      expect(status).toBe(409);
      expect(body).toEqual({ error: { code: 'not_configured', message: expect.stringMatching(/publicUrl/) } });
      expect(preAuthCalls(rig)).toBe(0);
    } finally {
      await rig.close();
    }
  });
});
