import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Config } from '../../src/config/schema';
import { launchBrowser, openRoute, screenshot, signedIn, watchedPage, type Watched } from '../helpers/browser';
import { apiGet, startConsoleStack, type ConsoleStack } from '../helpers/console-stack';
import { API_KEY, APP } from '../helpers/harness';

// a browser on a busy machine: page loads and screenshots take seconds
jest.setTimeout(45_000);

/**
 * The console's figures against the API they come from: /v1/stats (overview, funnel, window
 * coverage), /v1/stats/callbacks, and the notice search, parked list and timeline details.
 */

const HOUR = 3_600_000;

/** The number a tile shows ("1,234" → 1234). */
const tileValue = async (page: Page, counter: string) => Number(((await page.locator(`[data-counter="${counter}"] .value`).textContent()) ?? '').replace(/[^\d.]/g, ''));

/** The query of the last request the tab made to `path` (the range the page asked for). */
function lastQuery(w: Watched, path: string): string {
  const url = [...w.requests].reverse().find((u) => new URL(u).pathname === path);
  if (!url) throw new Error(`the page did not ask for ${path}`);
  return new URL(url).search;
}

const sum = (counts: Record<string, number>, prefix: string) => Object.entries(counts).reduce((s, [k, v]) => (k.startsWith(prefix) ? s + v : s), 0);

describe('the console figures in a browser', () => {
  let stack: ConsoleStack;
  let browser: Browser;
  let context: BrowserContext;
  let w: Watched;
  // The service's clock: the demo's mix happens 30 h ago (the previous 24 h), then two user blocks now.
  let offset = -30 * HOUR;
  const late: string[] = [];

  beforeAll(async () => {
    [stack, browser] = await Promise.all([
      startConsoleStack(
        // pushes are signed with the emulator's (real) time: let them through while the service's clock is behind
        (c) => Object.assign({}, c, { searchFields: ['order_no'], wechat: { ...c.wechat, timestampSkewSeconds: 2 * 24 * 3600 } }) as Config,
        { now: () => Date.now() + offset },
      ),
      launchBrowser(),
    ]);
    offset = 0;
    const control = stack.h.emulator.control;
    for (const openid of ['oFIG_block_0001', 'oFIG_block_0002']) {
      control.addUser({ openid, subscribed: true });
      await control.userSendsText(openid, 'hi');
      control.setReceiptOutcome({ openid, outcome: 'failed:user block' });
      const { body } = await stack.h.enqueue({ account: APP.appId, openid, template: 'order_paid', data: { order_no: `B-${openid}`, amount: '5.00' } });
      late.push(body.id as string);
    }
    for (const id of late) await stack.h.waitFor(id, 'fallback_sent', 10_000);
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB' });
    w = await watchedPage(context);
    await signedIn(w.page, `${stack.h.service.url}/console`, API_KEY);
  }, 60_000);
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await stack?.close();
  });

  describe('overview, funnel and window coverage', () => {
    it('the overview tiles show what GET /v1/stats answers for the same range, and its time series is drawn', async () => {
      const { page } = w;
      await openRoute(page, 'overview');
      const { body: stats } = await apiGet(stack.h, `/v1/stats${lastQuery(w, '/v1/stats')}`);
      const totals = stats.totals as Record<string, number>;
      for (const counter of ['accepted', 'delivered', 'fallback_sent.customer_service', 'fallback_sent.passive_reply', 'parked', 'template.sent', 'receipt.user_block', 'window.open', 'window.closed']) {
        expect([counter, await tileValue(page, counter)]).toEqual([counter, totals[counter] ?? 0]);
      }
      expect(await tileValue(page, 'failed')).toBe(sum(totals, 'failed.'));
      // only the two late notices fall in the last 24 h
      expect(totals.accepted).toBe(2);
      expect(totals['receipt.user_block']).toBe(2);
      await page.locator('[data-section="series"] .chart canvas').first().waitFor();
      await screenshot(page, 'overview');
    });

    it("the funnel shows each template's steps and marks the user-block rate that doubled in red", async () => {
      const { page } = w;
      // the previous period's figures come last (as they did once in CI): the rows must wait for them
      let delayed = 0;
      const previousPeriod = (url: URL) => url.pathname === '/v1/stats' && Date.parse(url.searchParams.get('from') ?? '') < Date.now() - 36 * HOUR;
      await page.route(previousPeriod, async (route) => {
        delayed += 1;
        await new Promise((resolve) => setTimeout(resolve, 1500));
        // once the test has given up on it (unrouted), the request is no longer this handler's
        await route.continue().catch(() => undefined);
      });
      try {
        await openRoute(page, 'funnel');
        const row = page.locator(`tr[data-template="order_paid"][data-account="${APP.appId}"]`);
        await expect(row.locator('td[data-step="receipt.user_block"]').getAttribute('class')).resolves.toBe('jump');
        await expect(row.locator('td[data-step="receipt.success"]').getAttribute('class')).resolves.toBe('');
        expect(delayed).toBe(1);
      } finally {
        await page.unroute(previousPeriod);
      }
      await screenshot(page, 'funnel');
    });

    it("the accounts page shows each account's window coverage from the counters", async () => {
      const { page } = w;
      await openRoute(page, 'accounts');
      const cell = page.locator(`[data-coverage="${APP.appId}"]`);
      await cell.waitFor();
      const { body } = await apiGet(stack.h, `/v1/stats?account=${APP.appId}`);
      const totals = body.totals as Record<string, number>;
      const open = totals['window.open'] ?? 0;
      expect(open).toBeGreaterThan(0);
      await expect(cell.textContent()).resolves.toContain(`(${open} / ${open + (totals['window.closed'] ?? 0)})`);
    });
  });

  describe('callback health', () => {
    it('shows the answer latency and the pushes by kind that GET /v1/stats/callbacks answers', async () => {
      const { page } = w;
      await openRoute(page, 'callbacks');
      const { body } = await apiGet(stack.h, `/v1/stats/callbacks${lastQuery(w, '/v1/stats/callbacks')}`);
      const answers = body.answers as { count: number; over5s: number };
      expect(answers.count).toBeGreaterThan(0);
      expect(await tileValue(page, 'answers.count')).toBe(answers.count);
      expect(await tileValue(page, 'answers.over5s')).toBe(answers.over5s);
      const kinds = await page.locator('tr[data-kind]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-kind')));
      expect(kinds.sort()).toEqual(Object.keys(body.byKind as object).sort());
      expect(kinds).toEqual(expect.arrayContaining(['receipt', 'text']));
      await page.locator('[data-section="answers"] .chart canvas').first().waitFor();
      await screenshot(page, 'callbacks');
    });
  });

  describe('notice search, parked list and timeline details', () => {
    it('finds notices by openid and by a business field, as the API does', async () => {
      const { page } = w;
      await openRoute(page, 'notices');
      await page.locator('form.search select').first().selectOption('openid');
      await page.locator('form.search input[name="value"]').fill('oDEMO_mix_userblock_02');
      await page.locator('form.search button[type="submit"]').click();
      await page.locator(`tr[data-notice="${stack.mix.userBlock}"]`).waitFor();
      const byOpenid = (await apiGet(stack.h, `/v1/notifications?account=${APP.appId}&openid=oDEMO_mix_userblock_02`)).body.items as Array<{ id: string }>;
      expect(await page.locator('tr[data-notice]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-notice')))).toEqual(byOpenid.map((n) => n.id));

      await openRoute(page, 'notices');
      await page.locator('form.search select').first().selectOption('field');
      await page.locator('form.search input[name="field"]').fill('order_no');
      await page.locator('form.search input[name="value"]').fill('A2004');
      await page.locator('form.search button[type="submit"]').click();
      await page.locator(`tr[data-notice="${stack.mix.parked}"]`).waitFor();
      expect(await page.locator('tr[data-notice]').count()).toBe(1);
      await screenshot(page, 'search');
    });

    it('lists the parked notices of an account with their expiry', async () => {
      const { page } = w;
      await openRoute(page, 'parked');
      const row = page.locator(`tr[data-notice="${stack.mix.parked}"]`);
      await row.waitFor();
      const { body } = await apiGet(stack.h, `/v1/notifications?account=${APP.appId}&status=awaiting_interaction`);
      const items = body.items as Array<{ id: string; parkedUntil: string }>;
      expect(await page.locator('tr[data-notice]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-notice')))).toEqual(items.map((n) => n.id));
      expect(items.find((n) => n.id === stack.mix.parked)?.parkedUntil).toEqual(expect.any(String));
      await expect(row.locator('td').last().textContent()).resolves.not.toBe('—');
      await screenshot(page, 'parked');
    });

    it("a notice's page shows the template as the user saw it, each WeChat call, and its webhook deliveries", async () => {
      const { page } = w;
      const id = stack.mix.userBlock;
      await openRoute(page, `notice/${encodeURIComponent(id)}`);
      const view = (await apiGet(stack.h, `/v1/notifications/${id}`)).body as { rendered: string; history: Array<{ call?: { path: string } }> };
      await expect(page.locator('.rendered').textContent()).resolves.toBe(view.rendered);
      expect(view.rendered).toContain('A2002');
      const calls = view.history.flatMap((h) => (h.call ? [h.call.path] : []));
      expect(calls).toEqual(expect.arrayContaining(['/cgi-bin/message/template/send', '/cgi-bin/message/custom/send']));
      expect(await page.locator('.timeline [data-call]').evaluateAll((els) => els.map((e) => e.getAttribute('data-call')))).toEqual(calls);
      const deliveries = (await apiGet(stack.h, `/v1/webhook-deliveries?notification=${encodeURIComponent(id)}`)).body.deliveries as Array<{ id: string }>;
      expect(deliveries.length).toBeGreaterThan(0);
      expect(await page.locator('[data-section="notice-deliveries"] tr[data-delivery]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-delivery')))).toEqual(
        deliveries.map((d) => d.id),
      );
      await screenshot(page, 'notice-full');
    });
  });

  it('the page logged no error and loaded nothing from elsewhere', () => {
    expect(w.requests.filter((u) => !u.startsWith(`${stack.h.service.url}/`))).toEqual([]);
    expect(w.errors).toEqual([]);
  });
});
