import { createHash } from 'node:crypto';
import { chooseLanguage } from '../../src/console/language';
import { startHarness, type Harness } from '../helpers/harness';

describe('the console page and its assets', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ memory: true });
  });
  afterAll(async () => {
    await h.close();
  });

  it('GET /console: one HTML page under a CSP that allows scripts from wxreach only (and its own import map by hash), never cached stale', async () => {
    const res = await fetch(`${h.service.url}/console`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const html = await res.text();
    const map = /<script type="importmap">(.*?)<\/script>/.exec(html)?.[1] as string;
    const hash = createHash('sha256').update(map).digest('base64');
    expect(res.headers.get('content-security-policy')).toBe(
      `default-src 'none'; script-src 'self' 'sha256-${hash}'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`,
    );
    // every script and style is served by wxreach itself
    for (const url of [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]).concat(Object.values((JSON.parse(map) as { imports: Record<string, string> }).imports))) {
      expect(url).toMatch(/^\/console\/assets\/[0-9a-f]{12}\//);
      const asset = await fetch(`${h.service.url}${url}`);
      expect([url, asset.status, asset.headers.get('cache-control')]).toEqual([url, 200, 'public, max-age=31536000, immutable']);
      expect(asset.headers.get('content-type')).toMatch(/^text\/(javascript|css); charset=utf-8$/);
    }
  });

  it('serves only the files it read at start-up, under the current version', async () => {
    const html = await (await fetch(`${h.service.url}/console`)).text();
    const version = /\/console\/assets\/([0-9a-f]{12})\//.exec(html)?.[1] as string;
    for (const path of [`/console/assets/000000000000/app.js`, `/console/assets/${version}/../../package.json`, `/console/assets/${version}/%2e%2e/%2e%2e/package.json`, `/console/assets/${version}/nope.js`]) {
      expect([path, (await fetch(`${h.service.url}${path}`)).status]).toEqual([path, 404]);
    }
    expect((await fetch(`${h.service.url}/console/assets/${version}/pages/overview.js`)).status).toBe(200);
  });

  it('speaks Chinese with ?lang=zh or when the browser ranks Chinese above English, else English', async () => {
    const langOf = async (query: string, acceptLanguage?: string) =>
      /<html lang="(\w+)">/.exec(await (await fetch(`${h.service.url}/console${query}`, { headers: acceptLanguage ? { 'accept-language': acceptLanguage } : {} })).text())?.[1];
    expect(await langOf('?lang=zh', 'en-US')).toBe('zh');
    expect(await langOf('?lang=en', 'zh-CN')).toBe('en');
    expect(await langOf('', 'zh-CN,zh;q=0.9,en;q=0.8')).toBe('zh');
    expect(await langOf('')).toBe('en');
    expect(chooseLanguage(undefined, 'en-US,en;q=0.9,zh-CN;q=0.8')).toBe('en');
    expect(chooseLanguage(undefined, 'fr-FR, en;q=0.5, zh-TW;q=0.7')).toBe('zh');
    expect(chooseLanguage(undefined, 'fr-FR')).toBe('en');
    expect(chooseLanguage('de', 'zh')).toBe('zh');
  });
});
