/**
 * Issue 5, "Nothing lost, nothing doubled (prove it)": real processes — a redis-server with AOF,
 * the WeChat emulator, two built wxreach servers behind a round-robin proxy — a few thousand
 * notifications with mixed outcomes, one instance SIGKILLed and restarted, Redis SIGKILLed and
 * restarted from its AOF, then a 60 s WeChat outage and a 30 s Redis outage, users coming back to
 * collect parked notices. At the end every accepted notification is terminal, every inbox shows
 * each notice at most once per channel, and no notice reached its user by both channels unless
 * the template failed by its receipt (or, by design, sent no receipt at all).
 *
 * Knobs: CHAOS_NOTIFICATIONS (default 2400), CHAOS_USERS (200), CHAOS_SEED (random),
 * CHAOS_WECHAT_OUTAGE_MS (60000), CHAOS_REDIS_OUTAGE_MS (30000),
 * CHAOS_KEEP=1 keeps the temp dir (logs, AOF) even when the test passes.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmulator, type EmulatorHandle, type InboxEntry } from '../../src/emulator';
import { API_KEY, APP } from '../helpers/harness';
import { serverEnv } from '../helpers/process';
import { freePort } from '../../src/dev/free-port';
import { RedisServer } from '../../src/dev/redis-server';
import { check, formatReport, TERMINAL, type Accepted, type FinalView } from './check';
import { buildIfStale, WxreachProcess } from './processes';
import { startProxy, type Proxy } from './proxy';
import {
  CHAOS_TEMPLATES,
  FALLBACK_PATTERN,
  openidOf,
  prng,
  seqLabel,
  TEMPLATE_CONTENT,
  templateFor,
  windowGroup,
} from './scenario';

const N = Number(process.env.CHAOS_NOTIFICATIONS ?? 2400);
const USERS = Number(process.env.CHAOS_USERS ?? 200);
const SEED = Number(process.env.CHAOS_SEED ?? randomBytes(4).readUInt32BE(0));
/** Notifications are enqueued over about this long, so the crashes land in the middle of the flow. */
const ENQUEUE_MS = 14_000;
const DRAIN_MS = 45_000;
/**
 * Short, so the run sees "no receipt" fallbacks, but longer than a receipt can be held up by a
 * killed instance (its 3 s push claim lapses, WeChat re-sends): the default is 600 s.
 */
const RECEIPT_TIMEOUT_S = 8;
/** How long Redis stays down. Longer than the 3 s lease, so claims run out while instances wait for it. */
const REDIS_DOWN_MS = Number(process.env.CHAOS_REDIS_DOWN_MS ?? 3500);
/** A WeChat outage (every API call answered HTTP 502 or its connection dropped): notices must wait, not fail. */
const WECHAT_OUTAGE_MS = Number(process.env.CHAOS_WECHAT_OUTAGE_MS ?? 60_000);
/** A long Redis outage while receipts and user messages keep coming: pushes go to the local journal. */
const REDIS_OUTAGE_MS = Number(process.env.CHAOS_REDIS_OUTAGE_MS ?? 30_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function pool<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (i < items.length) await fn(items[i++]);
    }),
  );
}

/** False once the test is over (passed or not): background loops stop, nothing new is started. */
let live = true;

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) {
    if (!live) throw new Error('the chaos test ended');
    await sleep(10);
  }
}

describe('nothing lost, nothing doubled: SIGKILLed instance, Redis crash with AOF replay', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  let dir = '';
  let passed = false;

  beforeAll(() => {
    buildIfStale();
  }, 90_000);

  afterAll(async () => {
    live = false;
    for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
    if (dir && (passed && !process.env.CHAOS_KEEP)) rmSync(dir, { recursive: true, force: true });
    else if (dir) console.log(`chaos: logs, config and AOF kept in ${dir}`);
  }, 30_000);

  it(`${N} notifications to ${USERS} users reach each user at most once per channel and all end terminal`, async () => {
    const t0 = Date.now();
    const random = prng(SEED);
    dir = mkdtempSync(path.join(tmpdir(), 'wxreach-chaos-'));
    const events: string[] = [];
    const note = (what: string) => events.push(`+${((Date.now() - t0) / 1000).toFixed(1)}s ${what}`);

    // --- Redis with AOF ---------------------------------------------------------------------
    const redis = await RedisServer.launch({ persistence: 'aof', dir: path.join(dir, 'redis') });
    cleanups.push(() => redis.stop());

    // --- the emulator: users, templates, outcomes ---------------------------------------------
    const openids = Array.from({ length: USERS }, (_, u) => openidOf(u));
    const emulator: EmulatorHandle = await startEmulator({
      ...APP,
      receiptDelayMs: 50,
      seed: {
        users: openids.map((openid) => ({ openid, subscribed: true })),
        templates: Object.values(CHAOS_TEMPLATES).map((t) => ({ template_id: t.id, title: t.title, content: TEMPLATE_CONTENT })),
      },
    });
    cleanups.push(() => emulator.close());
    const { control } = emulator;
    openids.forEach((openid, u) => {
      control.setReceiptOutcome({ openid, template_id: CHAOS_TEMPLATES.t_none.id, outcome: 'none' });
      control.setReceiptOutcome({ openid, template_id: CHAOS_TEMPLATES.t_block.id, outcome: 'failed:user block' });
      control.setReceiptOutcome({ openid, template_id: CHAOS_TEMPLATES.t_sysfail.id, outcome: 'failed: system failed' });
      control.setReceiptOutcome({ openid, template_id: CHAOS_TEMPLATES.t_repeat.id, outcome: { repeat: 3 } });
      if (u % 2 === 1) control.refuseTemplate(openid, CHAOS_TEMPLATES.t_ref.id);
    });

    // --- two wxreach instances behind a round-robin proxy --------------------------------------
    const configFile = path.join(dir, 'wxreach.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        templates: Object.fromEntries(Object.entries(CHAOS_TEMPLATES).map(([name, t]) => [name, { id: t.id, fallback: FALLBACK_PATTERN }])),
        receipt: { timeoutSeconds: RECEIPT_TIMEOUT_S, onTimeout: 'fallback' },
        retry: { maxAttempts: 5, baseDelayMs: 100 },
        worker: { pollMs: 20, leaseMs: 3000, batchSize: 64, concurrency: 32 },
        window: { parkSeconds: 600 },
        wechat: { timeoutMs: 3000 },
      }),
    );
    const env = serverEnv(emulator.url, { REDIS_URL: redis.url, WXREACH_CONFIG: configFile, LOG_LEVEL: 'info' });
    const a = new WxreachProcess('A', await freePort(), env, path.join(dir, 'wxreach-A.log'));
    const b = new WxreachProcess('B', await freePort(), env, path.join(dir, 'wxreach-B.log'));
    cleanups.push(() => a.stop(), () => b.stop());
    await Promise.all([a.start(), b.start()]);
    const proxy: Proxy = await startProxy(() => [a.url, b.url]);
    cleanups.push(() => proxy.close());
    control.setCallbackUrl(`${proxy.url}/wechat`);
    note('redis, emulator, A, B and the proxy up');

    // --- the business client: POST with an Idempotency-Key, repeated until it gets an answer -------
    let clientRetries = 0;
    const call = async (method: 'GET' | 'POST', p: string, body?: unknown, headers: Record<string, string> = {}) => {
      for (let attempt = 1; ; attempt++) {
        // A timer of our own (cleared), not AbortSignal.timeout: that one keeps jest alive after the run.
        const abort = new AbortController();
        const timer = setTimeout(() => abort.abort(), 8000);
        try {
          const res = await fetch(`${proxy.url}${p}`, {
            method,
            headers: { authorization: `Bearer ${API_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
            body: body ? JSON.stringify(body) : undefined,
            signal: abort.signal,
          });
          const text = await res.text();
          if (res.status < 500) return { status: res.status, body: JSON.parse(text) as Record<string, unknown> };
          if (attempt >= 60) throw new Error(`${method} ${p}: HTTP ${res.status} ${text}`);
        } catch (err) {
          if (attempt >= 60) throw err;
        } finally {
          clearTimeout(timer);
        }
        clientRetries += 1;
        await sleep(Math.min(50 * attempt, 500));
      }
    };
    const getView = async (id: string): Promise<FinalView> => {
      const res = await call('GET', `/v1/notifications/${id}`);
      if (res.status !== 200) throw new Error(`GET ${id}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body as unknown as FinalView;
    };

    // --- open some windows before the first notice ---------------------------------------------
    await pool(openids.map((o, u) => [o, u] as const), 16, async ([openid, u]) => {
      if (windowGroup(u) === 0) await control.userSendsText(openid, 'hello');
      if (windowGroup(u) === 1) await control.subscribe(openid);
    });
    note('windows opened: a text from 1/4 of the users, a follow from 1/4; 1/2 never seen');

    // --- users coming back while notices flow ----------------------------------------------------
    let comersOn = true;
    let comebacks = 0;
    const comers = (async () => {
      while (comersOn && live) {
        const picks = Array.from({ length: 3 }, () => openids[Math.floor(random() * USERS)]);
        await Promise.all(picks.map((o) => control.userSendsText(o, 'back again').then(() => comebacks++)));
        await sleep(300);
      }
    })();

    // --- the chaos timeline, keyed to enqueue progress -------------------------------------------
    let started = 0;
    let timeToRedis = 0;
    let outageCalls = 0;
    // Users who never talked to the account have parked notices: a burst of them comes back right
    // before each crash, so pushes are in the middle of releasing parked notices when it hits.
    const burst = (size: number) => {
      const never = openids.filter((_, u) => windowGroup(u) >= 2);
      for (let i = 0; i < size; i++) void control.userSendsText(never[Math.floor(random() * never.length)], 'back in a burst').then(() => comebacks++);
    };
    const chaos: Promise<void> = (async () => {
      await until(() => started >= N * 0.25);
      control.deleteTemplate(CHAOS_TEMPLATES.t_del.id);
      note(`template t_del deleted at the emulator (after ${started} enqueued)`);
      await until(() => started >= N * 0.35);
      burst(20);
      await sleep(5);
      await b.kill();
      note(`instance B SIGKILLed (after ${started} enqueued)`);
      await sleep(1500);
      if (!live) return;
      await b.start();
      note('instance B restarted');
      await until(() => started >= N * 0.65);
      burst(20);
      await sleep(5);
      note(`redis SIGKILLed (after ${started} enqueued)`);
      timeToRedis = await redis.crashAndRestart(REDIS_DOWN_MS);
      note(`redis restarted from its AOF after ${REDIS_DOWN_MS} ms down, answering PING ${timeToRedis} ms after spawn`);
      await until(() => started >= N * 0.8);
      control.setFaults({ http5xxRate: 0.5, dropRate: 0.5 });
      const callsBefore = control.stats().calls;
      note(`WeChat outage: every API call answered HTTP 502 or dropped (after ${started} enqueued)`);
      await sleep(WECHAT_OUTAGE_MS);
      if (!live) return;
      control.setFaults({});
      const callsDuring = Object.entries(control.stats().calls).reduce((sum, [p, n]) => sum + n - (callsBefore[p] ?? 0), 0);
      outageCalls = callsDuring;
      note(`WeChat answers again after ${WECHAT_OUTAGE_MS} ms (${callsDuring} calls hit the outage)`);
      await sleep(1500); // the backlog flows again: sends, then their receipts
      burst(20);
      note('redis SIGKILLed for the long outage, while receipts and user messages keep coming');
      await redis.crashAndRestart(REDIS_OUTAGE_MS);
      note(`redis back from its AOF after ${REDIS_OUTAGE_MS} ms down`);
    })();

    chaos.catch(() => undefined); // awaited below; this only keeps an early failure from being unhandled
    comers.catch(() => undefined);

    // --- enqueue ---------------------------------------------------------------------------------
    const accepted: Accepted[] = new Array(N);
    const tEnqueue = Date.now();
    const seqs = Array.from({ length: N }, (_, i) => i);
    const users = seqs.map(() => Math.floor(random() * USERS));
    await pool(seqs, 24, async (i) => {
      started = Math.max(started, i + 1);
      const wait = tEnqueue + (i * ENQUEUE_MS) / N - Date.now();
      if (wait > 0) await sleep(wait);
      const seq = seqLabel(i);
      const openid = openids[users[i]];
      const template = templateFor(i);
      const res = await call(
        'POST',
        '/v1/notifications',
        { openid, template, data: { seq, body: `chaos ${SEED} item ${i}` } },
        { 'idempotency-key': `chaos-${SEED}-${seq}` },
      );
      if (res.status !== 202) throw new Error(`POST ${seq}: ${res.status} ${JSON.stringify(res.body)}`);
      accepted[i] = { seq, id: String(res.body.id), openid, template };
    });
    note(`${N} notifications accepted`);
    await chaos;
    comersOn = false;
    await comers;

    // --- drain: poll statuses; users with parked notices come back until none is left -------------
    const drainDeadline = Date.now() + DRAIN_MS;
    let pending = accepted;
    let rounds = 0;
    let drainTexts = 0;
    for (;;) {
      rounds += 1;
      await pool(pending, 32, async (n) => {
        n.final = await getView(n.id);
      });
      pending = pending.filter((n) => !TERMINAL.has(n.final?.status ?? ''));
      if (pending.length === 0 || Date.now() > drainDeadline) break;
      const parkedUsers = [...new Set(pending.filter((n) => n.final?.status === 'awaiting_interaction').map((n) => n.openid))];
      await pool(parkedUsers, 16, async (openid) => {
        await control.userSendsText(openid, 'anything for me?');
        drainTexts += 1;
      });
      await sleep(parkedUsers.length > 0 ? 200 : 500);
    }
    note(`drained in ${rounds} rounds (${drainTexts} texts from users with parked notices); ${pending.length} not terminal`);
    await control.whenIdle();

    // --- what reached the users --------------------------------------------------------------------
    const inboxes = new Map<string, InboxEntry[]>(openids.map((o) => [o, control.inbox(o)]));
    const report = check(accepted, inboxes, new Set([CHAOS_TEMPLATES.t_none.id]));
    const logErrors = [a, b].map((p) => {
      const lines = readFileSync(p.logFile, 'utf8').split('\n');
      return `${p.name}: ${lines.filter((l) => l.includes('"level":"error"')).length} error lines, ${lines.filter((l) => l.includes('"level":"warn"')).length} warn lines`;
    });
    console.log(
      formatReport(report, {
        seed: SEED,
        users: USERS,
        'redis persistence': 'appendonly yes, appendfsync always; crash = SIGKILL, restart replays the AOF',
        timeline: events,
        'users coming back during the run': comebacks,
        'business client retries (5xx / network)': clientRetries,
        'proxy': proxy.stats,
        'emulator callbacks': control.stats().callbacks,
        'instance logs': logErrors,
        'elapsed': `${((Date.now() - t0) / 1000).toFixed(1)} s`,
      }),
    );

    // --- the promises ----------------------------------------------------------------------------
    expect(a.starts + b.starts).toBe(3); // B was SIGKILLed and started again
    expect(redis.restarts).toBe(2);
    expect(outageCalls).toBeGreaterThan(0); // the WeChat outage was real: calls hit it
    const journaled = [a, b].reduce((sum, p) => sum + (readFileSync(p.logFile, 'utf8').match(/push kept in the local journal/g) ?? []).length, 0);
    expect(journaled).toBeGreaterThan(0); // and so was the Redis outage: pushes were journaled
    expect(accepted.filter(Boolean)).toHaveLength(N);
    expect(new Set(accepted.map((n) => n.id)).size).toBe(N);
    // The run covered what it claims to cover.
    expect(report.byStatus.delivered).toBeGreaterThan(0);
    expect(report.byStatus.fallback_sent).toBeGreaterThan(0);
    expect(report.byFallbackChannel.passive_reply).toBeGreaterThan(0);
    expect(report.byFallbackChannel.customer_service).toBeGreaterThan(0);
    expect(report.parkedAtSomePoint).toBeGreaterThan(0);
    for (const path of ['fallback: no receipt', 'fallback: errcode 40037', 'fallback: errcode 43101', 'fallback: receipt failed:user block']) {
      expect(report.byTemplatePath[path]).toBeGreaterThan(0);
    }
    // Nothing lost, nothing doubled.
    const problems = (kind: string) => report.problems.filter((p) => p.kind === kind).map((p) => `${p.seq} ${p.id}: ${p.detail}`);
    expect(problems('not terminal')).toEqual([]);
    expect(report.duplicates).toBe(0);
    expect(problems('lost fallback')).toEqual([]);
    expect(problems('delivered without its template')).toEqual([]);
    expect(problems('both channels')).toEqual([]);
    // Outages delay; they are never the reason a notice ended.
    for (const reason of ['wechat_unavailable', 'customer_service_unavailable', 'internal_error']) {
      expect(Object.keys(report.byReason).filter((k) => k.endsWith(reason))).toEqual([]);
    }
    expect(report.problems.map((p) => `[${p.kind}] ${p.seq} ${p.id}: ${p.detail}`)).toEqual([]);
    passed = true;
  }, 300_000);
});
