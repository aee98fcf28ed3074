import { REFUSED, refusingSecret, SECOND } from '../helpers/accounts';
import { API_KEY, APP, TEMPLATES, USER, sleep, startHarness, type Harness } from '../helpers/harness';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON answers read field by field

/**
 * The statistics against the running service (the emulator as WeChat, a real Redis): notices
 * driven to every outcome, then GET /v1/stats compared with what became of them; the callback
 * statistics after the emulator's signed pushes; the accounts' health.
 */

const LIMITED_KEY = 'stats-limited-key-0123456789';
const users = {
  ok: USER,
  block: 'oUSER_stats_block',
  none: 'oUSER_stats_none',
  refuse: 'oUSER_stats_refuse',
  park: 'oUSER_stats_park',
  ghost: 'oUSER_stats_never_followed',
};

const paid = (openid: string, extra: Json = {}) => ({ account: APP.appId, openid, template: 'order_paid', data: { order_no: 'A1', amount: '9.90' }, ...extra });
const seat = (openid: string) => ({ account: APP.appId, openid, template: 'seat_ready', data: { first: 'Hi', movie: 'M', seat: '7-8' } });

async function eventually<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await get();
    if (ok(last)) return last;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
}

describe('statistics: counters written with each status change, read through GET /v1/stats', () => {
  let h: Harness;
  /** The Redis key prefix, shared by the instance after the restart. */
  const prefix = `st${Date.now().toString(36)}`;
  const ids: Record<keyof typeof users, string> = {} as Record<keyof typeof users, string>;

  async function get(path: string, key = API_KEY): Promise<{ status: number; body: Json }> {
    const res = await fetch(`${h.service.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: res.status, body: (await res.json()) as Json };
  }

  const start = (redisPrefix: string) =>
    startHarness({
      redisPrefix,
      more: [SECOND, REFUSED],
      extraApiKeys: [`${LIMITED_KEY}=${APP.appId}`],
      emulator: { dailyTemplateQuota: 1000 },
      config: (c) => refusingSecret({ ...c, receipt: { ...c.receipt, timeoutSeconds: 1 }, stats: { ...c.stats, quotaPollSeconds: 1 } }),
    });

  beforeAll(async () => {
    h = await start(prefix);
    const c = h.emulator.control;
    for (const u of [users.block, users.none, users.refuse, users.park]) c.addUser({ openid: u, subscribed: true });
    // three users have written (their customer-service window is open); the one to park has not
    for (const u of [users.block, users.none, users.refuse]) await c.userSendsText(u, 'hello');
    c.setReceiptOutcome({ openid: users.block, outcome: 'failed:user block' });
    c.setReceiptOutcome({ openid: users.none, outcome: 'none' });
    c.refuseTemplate(users.refuse, TEMPLATES.seat_ready.id);
    c.refuseTemplate(users.park, TEMPLATES.order_paid.id);

    const send = async (body: Json) => {
      const res = await h.enqueue(body);
      expect(res.status).toBe(202);
      return res.body.id as string;
    };
    ids.ok = await send(paid(users.ok));
    ids.block = await send(paid(users.block));
    ids.none = await send(paid(users.none));
    ids.refuse = await send(seat(users.refuse));
    ids.park = await send(paid(users.park));
    ids.ghost = await send(paid(users.ghost));
    await h.waitFor(ids.ok, 'delivered');
    for (const k of ['block', 'none', 'refuse'] as const) await h.waitFor(ids[k], 'fallback_sent', 10_000);
    await h.waitFor(ids.ghost, 'failed');
    await h.waitFor(ids.park, 'awaiting_interaction');
    // the parked one rides on the reply to the user's first message
    const reply = await c.userSendsText(users.park, 'I am back');
    expect(reply.reply).toEqual(expect.any(String));
    await h.waitFor(ids.park, 'fallback_sent');
    await c.whenIdle();
  }, 60_000);
  afterAll(() => h?.close());

  /** What every counter must be, from the notices' final statuses and what the emulator did. */
  const EXPECTED_TOTALS = {
    accepted: 6,
    'template.sent': 3,
    'template.refused': 2,
    'receipt.success': 1,
    'receipt.user_block': 1,
    'receipt.none': 1,
    delivered: 1,
    'fallback_sent.customer_service': 3,
    'window.open': 3,
    'window.closed': 1,
    parked: 1,
    'fallback_sent.passive_reply': 1,
    'failed.invalid_openid': 1,
  };

  it("counts exactly what became of the notices, in total and in each template's funnel", async () => {
    const views = await Promise.all(Object.values(ids).map((id) => h.get(id)));
    const { status, body } = await get(`/v1/stats?account=${APP.appId}`);
    expect(status).toBe(200);
    expect(body.totals).toEqual(EXPECTED_TOTALS);
    // the same figures, derived from the notices as GET /v1/notifications/:id shows them
    const count = (ok: (v: Json) => boolean) => views.filter(ok).length;
    expect(body.totals.accepted).toBe(views.length);
    expect(body.totals.delivered).toBe(count((v) => v.status === 'delivered'));
    expect(body.totals['fallback_sent.customer_service']).toBe(count((v) => v.status === 'fallback_sent' && v.channel === 'customer_service'));
    expect(body.totals['fallback_sent.passive_reply']).toBe(count((v) => v.status === 'fallback_sent' && v.channel === 'passive_reply'));
    expect(body.totals['failed.invalid_openid']).toBe(count((v) => v.status === 'failed' && v.reason === 'invalid_openid'));
    expect(body.totals['template.sent']).toBe(count((v) => typeof v.msgid === 'string'));

    expect(body.templates).toEqual([
      {
        account: APP.appId,
        template: 'order_paid',
        counts: { ...EXPECTED_TOTALS, accepted: 5, 'template.refused': 1, 'fallback_sent.customer_service': 2, 'window.open': 2 },
      },
      { account: APP.appId, template: 'seat_ready', counts: { accepted: 1, 'template.refused': 1, 'fallback_sent.customer_service': 1, 'window.open': 1 } },
    ]);
    const seatOnly = await get(`/v1/stats?account=${APP.appId}&template=seat_ready`);
    expect(seatOnly.body.totals).toEqual({ accepted: 1, 'template.refused': 1, 'fallback_sent.customer_service': 1, 'window.open': 1 });
    // every account of the key by default: the others had nothing
    const all = await get('/v1/stats');
    expect(all.body.accounts.sort()).toEqual([APP.appId, SECOND.account.appId, REFUSED.account.appId].sort());
    expect(all.body.totals).toEqual(EXPECTED_TOTALS);
  });

  it('answers every bucket of the range, choosing the bucket size by its length, and refuses what it cannot answer', async () => {
    const now = Date.now();
    const day = await get('/v1/stats');
    expect(day.body.bucket).toBe('hour');
    expect(day.body.series).toHaveLength(25); // the hours from the one 24 h ago to the current one
    const sum = (series: Json[]) => series.reduce((n, s) => n + (s.counts.accepted ?? 0), 0);
    expect(sum(day.body.series)).toBe(6);
    expect(day.body.series.every((s: Json, i: number) => i === 0 || Date.parse(s.start) - Date.parse(day.body.series[i - 1].start) === 3_600_000)).toBe(true);

    const twoHours = await get(`/v1/stats?from=${now - 2 * 3_600_000}&to=${now}`);
    expect([twoHours.body.bucket, twoHours.body.series.length]).toEqual(['minute', 121]);
    expect(sum(twoHours.body.series)).toBe(6);
    expect(twoHours.body.series.filter((s: Json) => Object.keys(s.counts).length > 0).length).toBeGreaterThanOrEqual(1);
    const week = await get(`/v1/stats?from=${new Date(now - 7 * 86_400_000).toISOString()}&to=${new Date(now).toISOString()}`);
    expect([week.body.bucket, week.body.series.length, week.body.totals]).toEqual(['day', 8, EXPECTED_TOTALS]);
    const later = await get(`/v1/stats?from=${now + 3_600_000}&to=${now + 7_200_000}`);
    expect([later.status, later.body.totals, later.body.templates]).toEqual([200, {}, []]);

    const refusals: Array<[string, number, string, string]> = [
      [`/v1/stats?from=${now}&to=${now - 1000}`, 400, 'invalid_request', 'to'],
      [`/v1/stats?from=${now - 2 * 86_400_000}&to=${now}&bucket=minute`, 400, 'invalid_request', 'bucket'],
      ['/v1/stats?from=yesterday', 400, 'invalid_request', 'from'],
      ['/v1/stats?bucket=week', 400, 'invalid_request', 'bucket'],
      ['/v1/stats?account=nonsense', 400, 'invalid_request', 'account'],
      ['/v1/stats?color=red', 400, 'invalid_request', '(body)'],
      ['/v1/stats?account=wx0000000000000000', 404, 'not_found', ''],
    ];
    for (const [path, status, code, field] of refusals) {
      const a = await get(path);
      expect([path, a.status, a.body.error.code]).toEqual([path, status, code]);
      if (field) expect(a.body.error.details.map((d: Json) => d.field)).toContain(field);
    }
  });

  it('a key limited to accounts counts only those, and may not ask for another', async () => {
    const mine = await get('/v1/stats', LIMITED_KEY);
    expect([mine.status, mine.body.accounts, mine.body.totals]).toEqual([200, [APP.appId], EXPECTED_TOTALS]);
    const other = await get(`/v1/stats?account=${SECOND.account.appId}`, LIMITED_KEY);
    expect([other.status, other.body.error.code]).toEqual([403, 'forbidden']);
  });

  it('times the answers to the signed pushes and counts them by kind', async () => {
    const { status, body } = await get('/v1/stats/callbacks');
    expect(status).toBe(200);
    // two receipts (success, user block; none for the others) and four messages from users
    expect(body.byKind).toEqual({ receipt: 2, text: 4 });
    expect(body.answers).toEqual({ count: 6, p50Ms: expect.any(Number), p99Ms: expect.any(Number), over5s: 0 });
    expect(body.answers.p99Ms).toBeLessThanOrEqual(5000);
    expect(body.answers.p50Ms).toBeLessThanOrEqual(body.answers.p99Ms);
    expect(body.bucket).toBe('hour');
    expect(body.series.reduce((n: number, s: Json) => n + s.count, 0)).toBe(6);
    const bad = await get('/v1/stats/callbacks?bucket=minute&from=0');
    expect([bad.status, bad.body.error.code]).toEqual([400, 'invalid_request']);
  });

  it("shows each account's health: last push, token refreshes and refusal, the quota WeChat reports and a 45009 pause", async () => {
    // SECOND may send one template a day: the second send is refused with 45009 and pauses its sends
    const first = await h.enqueue(paid(USER, { account: SECOND.account.appId }));
    await h.waitFor(first.body.id as string, 'delivered');
    const second = await h.enqueue(paid(USER, { account: SECOND.account.appId }));
    await h.waitFor(second.body.id as string, ['fallback_sent', 'awaiting_interaction']);
    await get('/v1/stats/callbacks'); // hands this instance's last push times to the store now
    const accounts = await eventually(
      'the quotas',
      async () => (await get('/v1/accounts')).body.accounts as Json[],
      (list) => list.find((a) => a.appid === SECOND.account.appId)?.quota?.used === 1 && list.find((a) => a.appid === APP.appId)?.quota?.used === 6,
    );
    const byId = Object.fromEntries(accounts.map((a) => [a.appid, a]));
    expect(byId[APP.appId]).toMatchObject({
      lastPushAt: expect.any(String),
      tokenRefreshes24h: expect.any(Number),
      tokenRefusal: null,
      quota: { dailyLimit: 1000, used: 6, remaining: 994, checkedAt: expect.any(String) },
      quotaPausedUntil: null,
    });
    expect(byId[APP.appId].tokenRefreshes24h).toBeGreaterThanOrEqual(1);
    // the refused send did not count against the quota (WeChat counts what passes its check)
    expect(byId[SECOND.account.appId]).toMatchObject({ quota: { dailyLimit: 1, used: 1, remaining: 0 }, quotaPausedUntil: expect.any(String) });
    expect(Date.parse(byId[SECOND.account.appId].quotaPausedUntil)).toBeGreaterThan(Date.now());
    expect(byId[REFUSED.account.appId]).toMatchObject({ tokenRefreshes24h: 0, tokenRefusal: { errcode: 40125, at: expect.any(String) }, quota: null, lastPushAt: null });
    expect(Date.now() - Date.parse(byId[APP.appId].lastPushAt)).toBeLessThan(60_000);
  });

  it("lists a template's validity changes in GET /v1/templates", async () => {
    h.emulator.control.deleteTemplate(TEMPLATES.seat_ready.id);
    const id = (await h.enqueue(seat(users.refuse))).body.id as string;
    await h.waitFor(id, 'fallback_sent');
    const { body } = await get(`/v1/templates?account=${APP.appId}`);
    const seatReady = body.templates.find((t: Json) => t.name === 'seat_ready');
    expect(seatReady).toMatchObject({ valid: false, events: [{ at: expect.any(String), valid: false, reason: expect.stringContaining('40037') }] });
    expect(body.templates.find((t: Json) => t.name === 'order_paid').events).toEqual([]);
  });

  it('keeps the counts over a restart of the instance (they are in Redis)', async () => {
    const before = (await get(`/v1/stats?account=${APP.appId}`)).body;
    expect(before.totals.accepted).toBeGreaterThanOrEqual(6);
    await h.close();
    h = await start(prefix);
    const after = (await get(`/v1/stats?account=${APP.appId}`)).body;
    expect(after.totals).toEqual(before.totals);
    expect(after.templates).toEqual(before.templates);
  }, 30_000);
});
