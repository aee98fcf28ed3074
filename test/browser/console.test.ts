import type { Browser, BrowserContext } from 'playwright-core';
import { fitsWidth, launchBrowser, openRoute, screenshot, signedIn, submitKey, watchedPage, type Watched } from '../helpers/browser';
import { apiGet, LIMITED_KEY, startConsoleStack, type ConsoleStack } from '../helpers/console-stack';
import { API_KEY, APP } from '../helpers/harness';
import { SECOND } from '../helpers/accounts';

// a browser on a busy machine: page loads and screenshots take seconds
jest.setTimeout(45_000);

/**
 * The operator console in headless Chromium against a real wxreach (emulator, Redis): the parts
 * that read routes every build has. The figures (overview, funnel, search, parked, callbacks) are
 * in console-figures.test.ts.
 */
describe('the console in a browser', () => {
  let stack: ConsoleStack;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const base = () => stack.h.service.url;

  /** A fresh browser profile (no cookies) at 1280×800 unless told otherwise. */
  async function tab(options: Parameters<Browser['newContext']>[0] = {}): Promise<Watched> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB', ...options });
    contexts.push(context);
    return watchedPage(context);
  }

  /** Nothing the tab loaded came from elsewhere, and the page logged no error (a CSP refusal would be one). */
  function expectClean(w: Watched): void {
    expect(w.requests.filter((u) => !u.startsWith(`${base()}/`))).toEqual([]);
    expect(w.errors).toEqual([]);
  }

  /** A tab signed in with the full key, shared by the tests that only read as it. */
  let admin: Watched;

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startConsoleStack(), launchBrowser()]);
    admin = await tab();
    await signedIn(admin.page, `${base()}/console`, API_KEY);
  }, 60_000);
  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await stack?.close();
  });

  it('a wrong key is refused with a clear message and no cookie; the right key opens the console, and the key is kept nowhere in the browser', async () => {
    const w = await tab();
    const { page } = w;
    await page.goto(`${base()}/console`);
    await submitKey(page, 'not-the-right-key-at-all');
    await expect(page.locator('[data-error="signin"]').textContent()).resolves.toBe('This API key is not accepted. Check it and try again.');
    expect(await page.context().cookies()).toEqual([]);
    await screenshot(page, 'signin');

    await submitKey(page, API_KEY);
    await expect(page.locator('main[data-page="overview"] h1').textContent()).resolves.toBe('Overview');
    const cookies = await page.context().cookies();
    expect(cookies).toEqual([expect.objectContaining({ name: 'wxr_console', httpOnly: true, sameSite: 'Strict', path: '/' })]);
    const stored = await page.evaluate<string>('JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage), document.cookie])');
    expect(stored).toBe('[[],[],""]');
    expect(await page.content()).not.toContain(API_KEY);
    expect(stack.h.logs()).not.toContain(API_KEY);
    expectClean(w);
  });

  it("opens a notice's timeline: the request, each step with its reason, the receipt, the fallback sentence", async () => {
    const w = admin;
    const { page } = w;
    const id = stack.mix.userBlock;
    await openRoute(page, `notice/${encodeURIComponent(id)}`);
    const notice = (await apiGet(stack.h, `/v1/notifications/${id}`)).body as { status: string; text: string; history: Array<{ status: string; detail: string }> };

    await expect(page.locator('[data-section="summary"] [data-status]').getAttribute('data-status')).resolves.toBe('fallback_sent');
    await expect(page.locator('[data-section="request"]').textContent()).resolves.toContain('oDEMO_mix_userblock_02');
    const steps = page.locator('.timeline li');
    await expect(steps.count()).resolves.toBe(notice.history.length);
    expect(await steps.locator('.detail').allTextContents()).toEqual(notice.history.map((h) => h.detail));
    const receipt = page.locator('.timeline li.receipt');
    await expect(receipt.locator('.detail').textContent()).resolves.toMatch(/receipt for msgid \d+: failed:user block/);
    await expect(page.locator('.fallback').textContent()).resolves.toBe(notice.text);
    expect(notice.text).toContain('A2002');
    await screenshot(page, 'notice');
    expectClean(w);
  });

  it('retries a webhook delivery from its button, sending the CSRF token; the same POST with the cookie only is refused 403 csrf', async () => {
    const { h, receiver } = stack;
    // the delivery of the delivered notice's event, failed twice (at once and 5 s later; the next try is minutes away)
    const failing = async () =>
      ((await apiGet(h, '/v1/webhook-deliveries?status=failed&limit=100')).body.deliveries as Array<Record<string, unknown>>).find(
        (d) => d.subject === stack.mix.delivered && d.type === 'notification.delivered' && (d.attempts as number) >= 2,
      );
    let delivery: Record<string, unknown> | undefined;
    const deadline = Date.now() + 15_000;
    while (!(delivery = await failing()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (!delivery) throw new Error('the delivery did not fail twice');
    const id = delivery.id as string;
    /** The receiver's requests of this delivery (by its webhook-id header). */
    const received = () => receiver.requests.filter((r) => r.id === delivery?.webhookId);
    const requestsBefore = received().length;
    receiver.respond(() => 200);

    const w = admin;
    const { page } = w;
    await openRoute(page, 'webhooks');
    const row = page.locator(`tr[data-delivery="${id}"]`);
    await expect(row.getAttribute('data-status')).resolves.toBe('failed');

    const forged = await page.evaluate<{ status: number; body: { error: { code: string } } }>(
      `fetch('/v1/webhook-deliveries/${id}/retry', { method: 'POST' }).then(async (r) => ({ status: r.status, body: await r.json() }))`,
    );
    expect(forged).toEqual({ status: 403, body: { error: expect.objectContaining({ code: 'csrf' }) } });
    expect(received()).toHaveLength(requestsBefore);

    const { csrf } = await page.evaluate<{ csrf: string }>("fetch('/console/session').then((r) => r.json())");
    const [sent] = await Promise.all([page.waitForRequest((r) => r.url().endsWith(`/v1/webhook-deliveries/${id}/retry`)), row.locator('button[data-retry]').click()]);
    expect(sent.method()).toBe('POST');
    expect(sent.headers()['x-csrf-token']).toBe(csrf);
    await page.locator(`tr[data-delivery="${id}"][data-status="succeeded"]`).waitFor({ timeout: 10_000 });
    await receiver.until(() => received().some((r) => r.answered === 200), 5000, 'the retried delivery');
    expect(received()).toHaveLength(requestsBefore + 1);
    await screenshot(page, 'webhooks');
    expectClean(w);
  });

  it("a key limited to one account cannot see another account's notice (it sees its own account's)", async () => {
    // both came through the stream, so every key that may use their account reads them
    expect((await apiGet(stack.h, `/v1/notifications/${stack.streamed.app}`)).status).toBe(200);
    const w = await tab();
    const { page } = w;
    await signedIn(page, `${base()}/console`, LIMITED_KEY);
    await openRoute(page, `notice/${encodeURIComponent(stack.streamed.second)}`);
    await expect(page.locator('[data-section="summary"] [data-notice]').textContent()).resolves.toBe(stack.streamed.second);

    await openRoute(page, `notice/${encodeURIComponent(stack.streamed.app)}`);
    await expect(page.locator('[data-error="not_found"]').isVisible()).resolves.toBe(true);
    expect(await page.locator('[data-section="summary"]').count()).toBe(0);
    await expect(page.locator('main').textContent()).resolves.not.toContain('S-app');

    await openRoute(page, 'accounts');
    expect(await page.locator('tr[data-account]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-account')))).toEqual([SECOND.account.appId]);
    await screenshot(page, 'limited-key');
    expectClean(w);
  });

  it('shows the accounts (token, authorisation) and each template’s health', async () => {
    const w = admin;
    const { page } = w;
    await openRoute(page, 'accounts');
    const accounts = page.locator('tr[data-account]');
    expect(await accounts.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-account')))).toEqual(expect.arrayContaining([APP.appId, SECOND.account.appId]));
    await expect(page.locator(`tr[data-account="${APP.appId}"]`).textContent()).resolves.toMatch(/authorised.*ok/);
    await screenshot(page, 'accounts');

    await openRoute(page, 'templates');
    await page.locator('tr[data-template="order_shipped"]').waitFor();
    await expect(page.locator('tr[data-template="order_shipped"] .badge').textContent()).resolves.toBe('invalid');
    await expect(page.locator('tr[data-template="order_paid"] .badge').textContent()).resolves.toBe('valid');
    const templates = (await apiGet(stack.h, `/v1/templates?account=${APP.appId}`)).body.templates as Array<{ name: string; reason: string | null }>;
    const shipped = templates.find((t) => t.name === 'order_shipped');
    await expect(page.locator('tr[data-template="order_shipped"]').textContent()).resolves.toContain(shipped?.reason as string);
    await screenshot(page, 'templates');
    expectClean(w);
  });

  it('speaks Chinese with ?lang=zh, or when the browser prefers Chinese (English otherwise: see the sign-in test)', async () => {
    const zhBrowser = await tab({ locale: 'zh-CN' });
    await zhBrowser.page.goto(`${base()}/console`);
    await expect(zhBrowser.page.locator('label[for="api-key"]').textContent()).resolves.toBe('API 密钥');
    await expect(zhBrowser.page.locator('html').getAttribute('lang')).resolves.toBe('zh');
    expectClean(zhBrowser);

    // the English browser, asking for Chinese
    const { page } = admin;
    await page.goto(`${base()}/console?lang=zh#/templates`);
    await page.locator('main[data-page="templates"]').waitFor();
    await expect(page.locator('nav a[href="#/overview"]').textContent()).resolves.toBe('概览');
    await expect(page.locator('tr[data-template="order_shipped"] .badge').textContent()).resolves.toBe('无效');
    await screenshot(page, 'templates-zh');
    await page.goto(`${base()}/console?lang=en#/overview`);
    await expect(page.locator('nav a[href="#/overview"]').textContent()).resolves.toBe('Overview');
    expectClean(admin);
  });

  it('at a phone width (375 px) every page fits without sideways scrolling', async () => {
    const w = await tab({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true });
    const { page } = w;
    await signedIn(page, `${base()}/console`, API_KEY);
    const routes = ['overview', 'funnel', 'templates', 'accounts', 'notices', `notice/${encodeURIComponent(stack.mix.passiveReply)}`, 'parked', 'webhooks', 'callbacks'];
    const tooWide: string[] = [];
    for (const route of routes) {
      await openRoute(page, route);
      if (!(await fitsWidth(page))) tooWide.push(route);
    }
    expect(tooWide).toEqual([]);
    await openRoute(page, `notice/${encodeURIComponent(stack.mix.passiveReply)}`);
    await screenshot(page, 'phone-notice');
    expectClean(w);
  });
});
