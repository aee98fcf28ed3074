/**
 * Issue 5, "Nothing lost, nothing doubled (prove it)": real processes — a redis-server with AOF,
 * the WeChat emulator, two built wxreach servers behind a round-robin proxy — a few thousand
 * notifications with mixed outcomes, one instance SIGKILLed and restarted, Redis SIGKILLed and
 * restarted from its AOF, then a 60 s WeChat outage and a 30 s Redis outage, users coming back to
 * collect parked notices. At the end every accepted notification is terminal, every inbox shows
 * each notice at most once per channel, and no notice reached its user by both channels unless
 * the template failed by its receipt (or, by design, sent no receipt at all). A webhook endpoint of
 * the config points at a receiver in the test process that verifies every delivery with the
 * `standardwebhooks` package, refuses some first attempts and cuts one connection: every terminal
 * notice has exactly one accepted terminal event there (again only with the same webhook-id), with
 * the notice's final status, after its `awaiting_interaction` ones.
 *
 * Knobs: CHAOS_NOTIFICATIONS (default 2400), CHAOS_USERS (200), CHAOS_SEED (random),
 * CHAOS_WECHAT_OUTAGE_MS (60000), CHAOS_REDIS_OUTAGE_MS (30000),
 * CHAOS_KEEP=1 keeps the temp dir (logs, AOF) even when the test passes.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startEmulator, type InboxEntry } from '../../src/emulator';
import { API_KEY, APP } from '../helpers/harness';
import { serverEnv } from '../helpers/process';
import { configEndpoint } from '../../src/outbound/endpoints';
import { prng } from '../../src/dev/prng';
import { RedisServer } from '../../src/dev/redis-server';
import { BusinessClient } from './business-client';
import { check, formatReport, type Accepted } from './check';
import { checkWebhooks, expectWebhooksHeld, formatWebhookReport } from './check-webhooks';
import { drain, drainWebhooks } from './drain';
import { startFleet } from './fleet';
import { buildIfStale } from './processes';
import { ChaosRun, sleep } from './run';
import { CHAOS_SETTINGS, CHAOS_TEMPLATES, configTemplates, openidOf, seedTemplates, seqLabel, templateFor } from './scenario';
import { Crowd, keyOf, stageOutcomes, type Recipient } from './users';
import { startChaosReceiver } from './webhook-receiver';

const N = Number(process.env.CHAOS_NOTIFICATIONS ?? 2400);
const USERS = Number(process.env.CHAOS_USERS ?? 200);
const SEED = Number(process.env.CHAOS_SEED ?? randomBytes(4).readUInt32BE(0));
/** Notifications are enqueued over about this long, so the crashes land in the middle of the flow. */
const ENQUEUE_MS = 14_000;
const DRAIN_MS = 45_000;
/**
 * After the notices: enough for a delivery an instance had in flight when it died (its 30 s lease),
 * then a retry 5 s later.
 */
const WEBHOOK_DRAIN_MS = 60_000;
/** How long Redis stays down. Longer than the 3 s lease, so claims run out while instances wait for it. */
const REDIS_DOWN_MS = Number(process.env.CHAOS_REDIS_DOWN_MS ?? 3500);
/** A WeChat outage (every API call answered HTTP 502 or its connection dropped): notices must wait, not fail. */
const WECHAT_OUTAGE_MS = Number(process.env.CHAOS_WECHAT_OUTAGE_MS ?? 60_000);
/** A long Redis outage while receipts and user messages keep coming: pushes go to the local journal. */
const REDIS_OUTAGE_MS = Number(process.env.CHAOS_REDIS_OUTAGE_MS ?? 30_000);

describe('nothing lost, nothing doubled: SIGKILLed instance, Redis crash with AOF replay', () => {
  let current: ChaosRun | undefined;
  let passed = false;

  beforeAll(() => {
    buildIfStale();
  }, 90_000);

  afterAll(() => current?.end(passed), 30_000);

  it(`${N} notifications to ${USERS} users reach each user at most once per channel and all end terminal`, async () => {
    const random = prng(SEED);
    const run = new ChaosRun('chaos');
    current = run;
    const { dir } = run;

    // --- Redis with AOF ---------------------------------------------------------------------
    const redis = await RedisServer.launch({ persistence: 'aof', dir: path.join(dir, 'redis') });
    run.defer(() => redis.stop());

    // --- the emulator: users, templates, outcomes ---------------------------------------------
    const openids = Array.from({ length: USERS }, (_, u) => openidOf(u));
    const emulator = await startEmulator({
      ...APP,
      receiptDelayMs: 50,
      seed: { users: openids.map((openid) => ({ openid, subscribed: true })), templates: seedTemplates(CHAOS_TEMPLATES) },
    });
    run.defer(() => emulator.close());
    const { control } = emulator;
    const recipients: Recipient[] = openids.map((openid, u) => ({ control, openid, u }));
    stageOutcomes(recipients, () => CHAOS_TEMPLATES);
    const crowd = new Crowd(recipients, random);

    // --- two wxreach instances behind a round-robin proxy --------------------------------------
    const receiver = await startChaosReceiver(run);
    const webhooks = { allowPrivate: true, endpoints: [{ url: receiver.url, secret: receiver.secret }] };
    const configFile = path.join(dir, 'wxreach.json');
    writeFileSync(configFile, JSON.stringify({ ...CHAOS_SETTINGS, templates: configTemplates(CHAOS_TEMPLATES), webhooks }));
    const env = serverEnv(emulator.url, { REDIS_URL: redis.url, WXREACH_CONFIG: configFile, LOG_LEVEL: 'info' });
    const { a, b, proxy } = await startFleet(run, env);
    control.setCallbackUrl(`${proxy.url}/wechat`);
    run.note('redis, emulator, A, B and the proxy up');
    const client = new BusinessClient(proxy.url, API_KEY);

    await crowd.openWindows();
    run.note('windows opened: a text from 1/4 of the users, a follow from 1/4; 1/2 never seen');
    const comers = crowd.keepComing(run);

    // --- the chaos timeline, keyed to enqueue progress -------------------------------------------
    let timeToRedis = 0;
    let outageCalls = 0;
    const chaos: Promise<void> = (async () => {
      const r = run;
      await r.until(() => r.started >= N * 0.25);
      control.deleteTemplate(CHAOS_TEMPLATES.t_del.id);
      r.note(`template t_del deleted at the emulator (after ${r.started} enqueued)`);
      await r.until(() => r.started >= N * 0.35);
      crowd.burst(20);
      await sleep(5);
      await b.kill();
      r.note(`instance B SIGKILLed (after ${r.started} enqueued)`);
      await sleep(1500);
      if (!r.live) return;
      await b.start();
      r.note('instance B restarted');
      await r.until(() => r.started >= N * 0.65);
      crowd.burst(20);
      await sleep(5);
      r.note(`redis SIGKILLed (after ${r.started} enqueued)`);
      timeToRedis = await redis.crashAndRestart(REDIS_DOWN_MS);
      r.note(`redis restarted from its AOF after ${REDIS_DOWN_MS} ms down, answering PING ${timeToRedis} ms after spawn`);
      await r.until(() => r.started >= N * 0.8);
      control.setFaults({ http5xxRate: 0.5, dropRate: 0.5 });
      const callsBefore = control.stats().calls;
      r.note(`WeChat outage: every API call answered HTTP 502 or dropped (after ${r.started} enqueued)`);
      await sleep(WECHAT_OUTAGE_MS);
      if (!r.live) return;
      control.setFaults({});
      const callsDuring = Object.entries(control.stats().calls).reduce((sum, [p, n]) => sum + n - (callsBefore[p] ?? 0), 0);
      outageCalls = callsDuring;
      r.note(`WeChat answers again after ${WECHAT_OUTAGE_MS} ms (${callsDuring} calls hit the outage)`);
      await sleep(1500); // the backlog flows again: sends, then their receipts
      crowd.burst(20);
      r.note('redis SIGKILLed for the long outage, while receipts and user messages keep coming');
      await redis.crashAndRestart(REDIS_OUTAGE_MS);
      r.note(`redis back from its AOF after ${REDIS_OUTAGE_MS} ms down`);
    })();
    chaos.catch(() => undefined); // awaited below; this only keeps an early failure from being unhandled

    // --- enqueue ---------------------------------------------------------------------------------
    const accepted: Accepted[] = new Array(N);
    const users = Array.from({ length: N }, () => Math.floor(random() * USERS));
    await run.enqueueSpread(N, ENQUEUE_MS, 24, async (i) => {
      const seq = seqLabel(i);
      const openid = openids[users[i]];
      const template = templateFor(i);
      const id = await client.enqueue({ openid, template, data: { seq, body: `chaos ${SEED} item ${i}` } }, `chaos-${SEED}-${seq}`);
      accepted[i] = { seq, id, account: APP.appId, openid, template, templateId: CHAOS_TEMPLATES[template].id };
    });
    run.note(`${N} notifications accepted`);
    await chaos;
    await comers.stop();

    // --- drain: poll statuses; users with parked notices come back until none is left -------------
    const drained = await drain(accepted, client, crowd, DRAIN_MS);
    run.note(`drained in ${drained.rounds} rounds (${drained.texts} texts from users with parked notices); ${drained.pending.length} not terminal`);
    await control.whenIdle();
    const hooked = await drainWebhooks(accepted, receiver, client, proxy.url, configEndpoint(webhooks.endpoints[0]).id, WEBHOOK_DRAIN_MS);
    run.note(`webhooks drained ${hooked.ms} ms later`);

    // --- what reached the users --------------------------------------------------------------------
    const inboxes = new Map<string, InboxEntry[]>(recipients.map((r) => [keyOf(r), r.control.inbox(r.openid)]));
    const report = check(accepted, inboxes, new Set([CHAOS_TEMPLATES.t_none.id]));
    console.log(
      formatReport(report, {
        seed: SEED,
        users: USERS,
        'redis persistence': 'appendonly yes, appendfsync always; crash = SIGKILL, restart replays the AOF',
        timeline: run.events,
        'users coming back during the run': crowd.comebacks,
        'business client retries (5xx / network)': client.retries,
        'proxy': proxy.stats,
        'emulator callbacks': control.stats().callbacks,
        'instance logs': [a.logSummary(), b.logSummary()],
        'elapsed': run.seconds(),
      }),
    );
    const hooks = checkWebhooks(accepted, receiver.requests);
    console.log(formatWebhookReport(hooks, receiver.faults, hooked));

    // --- the promises ----------------------------------------------------------------------------
    expect(a.starts + b.starts).toBe(3); // B was SIGKILLed and started again
    expect(redis.restarts).toBe(2);
    expect(outageCalls).toBeGreaterThan(0); // the WeChat outage was real: calls hit it
    const journaled = a.countInLog('push kept in the local journal') + b.countInLog('push kept in the local journal');
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
    // Status webhooks: the receiver's faults fired, and every event came through once accepted.
    expectWebhooksHeld(hooks, receiver.faults, hooked);
    passed = true;
  }, 300_000);
});
