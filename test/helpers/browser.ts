import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { projectRoot } from '../../src/config/project-root';

/** Debian's chromium (installed by .ci/run); CHROMIUM_PATH points elsewhere. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Headless Chromium (running as root needs --no-sandbox). */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

/** Where the browser tests write their screenshots (committed; the README shows them). */
export const SCREENSHOTS = path.join(projectRoot(), 'docs', 'screenshots');

/** A full-page screenshot of `page` as docs/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** What a browser tab did that a test checks: every URL it asked for, and the errors it logged. */
export interface Watched {
  page: Page;
  requests: string[];
  /** Script errors and console errors (CSP refusals among them), not counting answers the test expects (4xx of the API). */
  errors: string[];
}

/** An answer the console handles itself: the browser logs it, but it is no fault of the page. */
const EXPECTED_STATUS = /the server responded with a status of (400|401|403|404|409)/;

export async function watchedPage(context: BrowserContext): Promise<Watched> {
  const page = await context.newPage();
  const watched: Watched = { page, requests: [], errors: [] };
  page.on('request', (r) => watched.requests.push(r.url()));
  page.on('pageerror', (e) => watched.errors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !EXPECTED_STATUS.test(m.text())) watched.errors.push(`console: ${m.text()}`);
  });
  return watched;
}

/** Fills the console's sign-in form with `key` and submits it. */
export async function submitKey(page: Page, key: string): Promise<void> {
  await page.locator('#api-key').fill(key);
  await page.locator('form button[type=submit]').click();
}

/** Opens the console at `url` (e.g. `${base}/console#/webhooks`) and signs in; resolves once the page's heading shows. */
export async function signedIn(page: Page, url: string, key: string): Promise<void> {
  await page.goto(url);
  await submitKey(page, key);
  await page.locator('main[data-page] h1').waitFor();
}

/** True when the page is no wider than its viewport (nothing makes the phone scroll sideways). */
export const fitsWidth = (page: Page): Promise<boolean> => page.evaluate<boolean>('document.documentElement.scrollWidth <= document.documentElement.clientWidth');

/** Goes to the console's hash route `route` (e.g. `notice/<id>`) and waits until its figures have come. */
export async function openRoute(page: Page, route: string): Promise<void> {
  await page.evaluate(`location.hash = ${JSON.stringify(`#/${route}`)}`);
  await page.locator(`main[data-page="${route.split(/[/?]/)[0]}"]`).waitFor();
  await page.locator('[data-loading]').first().waitFor({ state: 'detached' });
}
