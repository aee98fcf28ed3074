/**
 * Many accounts on a Redis Cluster, nothing lost, nothing doubled: real processes — a local Redis
 * Cluster of 3 masters (AOF, appendfsync always), the WeChat emulator playing 50 Official Accounts
 * of the operator's own (the same openids follow every account), two built wxreach servers behind a
 * round-robin proxy — notices with mixed outcomes spread over the accounts, one instance SIGKILLed
 * and restarted and one master SIGKILLed and restarted from its AOF while they flow, users coming
 * back to collect parked notices. At the end, account by account: every accepted notice is
 * terminal, every inbox shows each notice at most once per channel, only in its own account, and
 * no notice reached its user by both channels unless the template failed by its receipt (or, by
 * design, sent no receipt at all). A webhook endpoint registered through the API points at a
 * receiver in the test process (verifying with `standardwebhooks`, refusing some first attempts,
 * cutting one connection): every terminal notice has exactly one accepted terminal event there.
 *
 * Knobs: CHAOS_CLUSTER_NOTIFICATIONS (default 1500), CHAOS_CLUSTER_ACCOUNTS (50),
 * CHAOS_CLUSTER_USERS (users per account, 12), CHAOS_SEED (random), CHAOS_CLUSTER_DOWN_MS (how
 * long the master stays down, 3500), CHAOS_CLUSTER_MASTER (which master: by default the one that
 * holds the due index, which every account's work goes through), CHAOS_KEEP=1 keeps the temp dir
 * (logs, config, the nodes' AOF) even when the test passes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { prng } from '../../src/dev/prng';
import { RedisCluster } from '../../src/dev/redis-cluster';
import { startEmulator, type AccountOptions, type InboxEntry } from '../../src/emulator';
import { ENDPOINTS_REFRESH_MS } from '../../src/outbound/endpoints';
import { RedisKeys } from '../../src/store/redis-keys';
import { API_KEY } from '../helpers/harness';
import { BusinessClient } from './business-client';
import { check, formatReport, type Accepted } from './check';
import { checkWebhooks, expectWebhooksHeld, formatWebhookReport } from './check-webhooks';
import { keyCount, masterOf } from './cluster-nodes';
import { drain, drainWebhooks } from './drain';
import { startFleet } from './fleet';
import { buildIfStale } from './processes';
import { ChaosRun, sleep } from './run';
import { CHAOS_SETTINGS, configTemplates, openidOf, seedTemplates, seqLabel, taggedTemplates, templateFor, type ChaosTemplates } from './scenario';
import { Crowd, keyOf, stageOutcomes, type Recipient } from './users';
import { startChaosReceiver } from './webhook-receiver';

const N = Number(process.env.CHAOS_CLUSTER_NOTIFICATIONS ?? 1500);
const ACCOUNTS = Number(process.env.CHAOS_CLUSTER_ACCOUNTS ?? 50);
const USERS = Number(process.env.CHAOS_CLUSTER_USERS ?? 12);
const SEED = Number(process.env.CHAOS_SEED ?? randomBytes(4).readUInt32BE(0));
/** Longer than the 3 s lease, so claims on the master's shards run out while it is down. */
const MASTER_DOWN_MS = Number(process.env.CHAOS_CLUSTER_DOWN_MS ?? 3500);
/** Notices are enqueued over about this long, so the crashes land in the middle of the flow. */
const ENQUEUE_MS = 12_000;
/**
 * Enough for the receipt timeout, the parked notices' users coming back, and the due-index sweep
 * (every 30 s) that re-hints what a master lost while it was down.
 */
const DRAIN_MS = 60_000;
/** After the notices: a delivery an instance had in flight when it died waits for its 30 s lease. */
const WEBHOOK_DRAIN_MS = 60_000;
/**
 * How long an instance may take to listen: it first syncs the template list of every account (4 s
 * for 50 accounts on an idle 2-core machine, 7-10 s for the restart in the middle of the run).
 */
const START_TIMEOUT_MS = 60_000;
/** The key prefix wxreach uses by default: the due index lives under it. */
const PREFIX = 'wxr';
/** Log lines an instance writes when a store call fails because its master is down. */
const STORE_TROUBLE = ['store unavailable', 'cannot claim due work', 'push kept in the local journal', 'redis error'];

interface ChaosAccount {
  options: AccountOptions;
  templates: ChaosTemplates;
}

/** Account k: its own appid, secret, Token and template ids; every other one in safe mode (AES). */
function chaosAccount(k: number): ChaosAccount {
  const tag = `A${String(k).padStart(3, '0')}`;
  const aesKey = k % 2 === 0 ? createHash('sha256').update(`chaos aes ${k}`).digest('hex').slice(0, 43) : undefined;
  return {
    options: { appId: `wxchaos${tag}`, appSecret: `chaos-secret-${tag}`, token: `chaostoken${tag}`, ...(aesKey ? { aesKey } : {}) },
    templates: taggedTemplates(tag),
  };
}

describe('nothing lost, nothing doubled on a Redis Cluster with many accounts: SIGKILLed instance, master restarted from its AOF', () => {
  let current: ChaosRun | undefined;
  let passed = false;

  beforeAll(() => {
    buildIfStale();
  }, 90_000);

  afterAll(() => current?.end(passed), 30_000);

  it(`${N} notices over ${ACCOUNTS} accounts × ${USERS} users reach each user of each account at most once per channel and all end terminal`, async () => {
    const random = prng(SEED);
    const run = new ChaosRun('chaos-cluster');
    current = run;

    // --- a Redis Cluster of 3 masters with AOF --------------------------------------------------
    const cluster = await RedisCluster.launch({ masters: 3, persistence: 'aof', dir: path.join(run.dir, 'cluster') });
    run.defer(() => cluster.stop());
    const indexMaster = await masterOf(cluster.nodes, new RedisKeys(PREFIX).deployment.dueIndex);
    const victim = Number(process.env.CHAOS_CLUSTER_MASTER ?? indexMaster);

    // --- the emulator: accounts, their users, templates, outcomes --------------------------------
    const accounts = Array.from({ length: ACCOUNTS }, (_, k) => chaosAccount(k));
    const openids = Array.from({ length: USERS }, (_, u) => openidOf(u));
    const users = openids.map((openid) => ({ openid, subscribed: true }));
    const [first, ...others] = accounts.map((a) => ({ ...a.options, seed: { users, templates: seedTemplates(a.templates) } }));
    const emulator = await startEmulator({ ...first, receiptDelayMs: 50, accounts: others });
    run.defer(() => emulator.close());
    const controls = accounts.map((a) => emulator.control.account(a.options.appId));
    // The user's number is shifted by the account's: one openid is in a different window group,
    // and refuses t_ref or not, from one account to the next.
    const recipients: Recipient[] = controls.flatMap((control, k) => openids.map((openid, u) => ({ control, openid, u: u + k })));
    const templatesOf = new Map(accounts.map((a) => [a.options.appId, a.templates]));
    stageOutcomes(recipients, (r) => templatesOf.get(r.control.appId)!);
    const crowd = new Crowd(recipients, random);

    // --- two wxreach instances on the cluster, behind a round-robin proxy ------------------------
    const receiver = await startChaosReceiver(run);
    const configFile = path.join(run.dir, 'wxreach.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        ...CHAOS_SETTINGS,
        // the receiver is on 127.0.0.1 over http; it is registered through the API below
        webhooks: { allowPrivate: true, endpoints: [] },
        accounts: Object.fromEntries(
          accounts.map(({ options: o, templates }) => [o.appId, { appSecret: o.appSecret, token: o.token, ...(o.aesKey ? { aesKey: o.aesKey } : {}), templates: configTemplates(templates) }]),
        ),
      }),
    );
    const env = {
      WECHAT_API_BASE: emulator.url,
      WXREACH_API_KEYS: API_KEY,
      REDIS_CLUSTER_NODES: cluster.nodes.join(','),
      WXREACH_CONFIG: configFile,
      LOG_LEVEL: 'info',
    };
    const { a, b, proxy } = await startFleet(run, env, START_TIMEOUT_MS);
    for (const control of controls) control.setCallbackUrl(`${proxy.url}/wechat/${control.appId}`);
    run.note(`cluster ${cluster.nodes.join(' ')}, emulator, A, B and the proxy up`);
    const client = new BusinessClient(proxy.url, API_KEY);
    const registered = await client.call('POST', '/v1/webhook-endpoints', { url: receiver.url, description: 'chaos receiver' });
    expect(registered.status).toBe(201);
    receiver.verifyWith(String(registered.body.secret));
    const endpoint = String(registered.body.id);
    // a move records its event once its instance has read the endpoint (README, "Recorded only when
    // wanted"): every instance has, ENDPOINTS_REFRESH_MS after the 201, so the first notice waits for that
    const seenEverywhere = Date.now() + ENDPOINTS_REFRESH_MS;
    run.note(`webhook endpoint ${endpoint} registered through the API`);

    await crowd.openWindows();
    run.note('windows opened: in each account a text from 1/4 of the users, a follow from 1/4; 1/2 never seen');
    await sleep(Math.max(0, seenEverywhere - Date.now()));
    const comers = crowd.keepComing(run);

    // --- the chaos timeline, keyed to enqueue progress -------------------------------------------
    let keysBefore = -1;
    let keysAfter = -1;
    let troubleBefore = 0;
    const trouble = () => STORE_TROUBLE.reduce((sum, text) => sum + a.countInLog(text) + b.countInLog(text), 0);
    const chaos: Promise<void> = (async () => {
      await run.until(() => run.started >= N * 0.25);
      for (const control of controls) control.deleteTemplate(templatesOf.get(control.appId)!.t_del.id);
      run.note(`template t_del deleted in every account at the emulator (after ${run.started} enqueued)`);
      await run.until(() => run.started >= N * 0.35);
      crowd.burst(20);
      await sleep(5);
      await b.kill();
      run.note(`instance B SIGKILLed (after ${run.started} enqueued)`);
      await sleep(1500);
      if (!run.live) return;
      await b.start(START_TIMEOUT_MS);
      run.note('instance B restarted');
      await run.until(() => run.started >= N * 0.6);
      crowd.burst(20);
      await sleep(5);
      troubleBefore = trouble();
      keysBefore = await keyCount(cluster.nodes[victim]);
      await cluster.kill(victim);
      run.note(`master ${victim} (${cluster.nodes[victim]}, ${victim === indexMaster ? 'holds' : 'does not hold'} the due index, ${keysBefore} keys) SIGKILLed (after ${run.started} enqueued)`);
      await sleep(MASTER_DOWN_MS);
      if (!run.live) return;
      await cluster.restart(victim);
      keysAfter = await keyCount(cluster.nodes[victim]);
      run.note(`master ${victim} restarted from its AOF after ${MASTER_DOWN_MS} ms down: ${keysAfter} keys, the cluster ok again`);
    })();
    chaos.catch(() => undefined); // awaited below; this only keeps an early failure from being unhandled

    // --- enqueue: each notice for a random user of a random account ----------------------------------
    const accepted: Accepted[] = new Array(N);
    const picks = Array.from({ length: N }, () => recipients[Math.floor(random() * recipients.length)]);
    await run.enqueueSpread(N, ENQUEUE_MS, 24, async (i) => {
      const seq = seqLabel(i);
      const { control, openid } = picks[i];
      const account = control.appId;
      const template = templateFor(i);
      const id = await client.enqueue({ account, openid, template, data: { seq, body: `chaos ${SEED} item ${i}` } }, `chaos-${SEED}-${seq}`);
      accepted[i] = { seq, id, account, openid, template, templateId: templatesOf.get(account)![template].id };
    });
    run.note(`${N} notices accepted`);
    await chaos;
    await comers.stop();

    // --- drain: poll statuses; users with parked notices come back until none is left -------------
    const drained = await drain(accepted, client, crowd, DRAIN_MS);
    run.note(`drained in ${drained.rounds} rounds (${drained.texts} texts from users with parked notices); ${drained.pending.length} not terminal`);
    await emulator.control.whenIdle();
    const hooked = await drainWebhooks(accepted, receiver, client, proxy.url, endpoint, WEBHOOK_DRAIN_MS);
    run.note(`webhooks drained ${hooked.ms} ms later`);

    // --- what reached the users, account by account ---------------------------------------------------
    const inboxes = new Map<string, InboxEntry[]>(recipients.map((r) => [keyOf(r), r.control.inbox(r.openid)]));
    const report = check(accepted, inboxes, new Set(accounts.map((acct) => acct.templates.t_none.id)));
    // An openid that got notices in several accounts: the case where keeping accounts apart matters.
    const accountsPerOpenid = new Map<string, Set<string>>();
    for (const n of accepted) accountsPerOpenid.set(n.openid, (accountsPerOpenid.get(n.openid) ?? new Set()).add(n.account));
    const sharedOpenids = [...accountsPerOpenid.values()].filter((s) => s.size > 1).length;
    const storeTroubleLines = trouble() - troubleBefore;
    console.log(
      formatReport(report, {
        seed: SEED,
        'accounts × users': `${ACCOUNTS} × ${USERS} (the same ${USERS} openids in every account; ${sharedOpenids} of them got notices in more than one account)`,
        'accounts that got notices': new Set(accepted.map((n) => n.account)).size,
        'redis cluster': '3 masters, no replicas, appendonly yes, appendfsync always; crash = SIGKILL, restart replays the AOF',
        timeline: run.events,
        'store trouble lines in the logs from the master crash on': storeTroubleLines,
        'users coming back during the run': crowd.comebacks,
        'business client retries (5xx / network)': client.retries,
        'proxy': proxy.stats,
        'emulator callbacks (all accounts)': controls.reduce(
          (sum, c) => {
            const s = c.stats().callbacks;
            return { attempts: sum.attempts + s.attempts, delivered: sum.delivered + s.delivered, failed: sum.failed + s.failed };
          },
          { attempts: 0, delivered: 0, failed: 0 },
        ),
        'instance logs': [a.logSummary(), b.logSummary()],
        'elapsed': run.seconds(),
      }),
    );
    const hooks = checkWebhooks(accepted, receiver.requests);
    console.log(formatWebhookReport(hooks, receiver.faults, hooked));

    // --- every fault fired ------------------------------------------------------------------------
    expect(a.starts + b.starts).toBe(3); // B was SIGKILLed and started again
    expect(keysBefore).toBeGreaterThan(0); // the master held wxreach's data when it was killed…
    expect(keysAfter).toBeGreaterThanOrEqual(keysBefore * 0.9); // …and had it back from its AOF (keys with a short TTL may have gone)
    expect(storeTroubleLines).toBeGreaterThan(0); // and the instances felt it
    expect(report.byTemplatePath['fallback: errcode 40037']).toBeGreaterThan(0); // the deleted template was called
    // --- the run covered what it claims to cover -------------------------------------------------------
    expect(accepted.filter(Boolean)).toHaveLength(N);
    expect(new Set(accepted.map((n) => n.id)).size).toBe(N);
    expect(new Set(accepted.map((n) => n.account)).size).toBe(Math.min(ACCOUNTS, N));
    expect(sharedOpenids).toBeGreaterThan(0);
    expect(report.byStatus.delivered).toBeGreaterThan(0);
    expect(report.byStatus.fallback_sent).toBeGreaterThan(0);
    expect(report.byFallbackChannel.passive_reply).toBeGreaterThan(0);
    expect(report.byFallbackChannel.customer_service).toBeGreaterThan(0);
    expect(report.parkedAtSomePoint).toBeGreaterThan(0);
    for (const p of ['fallback: no receipt', 'fallback: errcode 43101', 'fallback: receipt failed:user block']) {
      expect(report.byTemplatePath[p]).toBeGreaterThan(0);
    }
    // --- nothing lost, nothing doubled, nothing in the wrong account ------------------------------------
    const problems = (kind: string) => report.problems.filter((p) => p.kind === kind).map((p) => `${p.seq} ${p.id}: ${p.detail}`);
    expect(problems('not terminal')).toEqual([]);
    expect(report.duplicates).toBe(0);
    expect(problems('lost fallback')).toEqual([]);
    expect(problems('delivered without its template')).toEqual([]);
    expect(problems('both channels')).toEqual([]);
    expect(problems('wrong user')).toEqual([]);
    expect(problems('wrong account')).toEqual([]);
    expect(problems('wrong template')).toEqual([]);
    // A crash delays; it is never the reason a notice ended.
    for (const reason of ['wechat_unavailable', 'customer_service_unavailable', 'internal_error']) {
      expect(Object.keys(report.byReason).filter((k) => k.endsWith(reason))).toEqual([]);
    }
    expect(report.problems.map((p) => `[${p.kind}] ${p.seq} ${p.id}: ${p.detail}`)).toEqual([]);
    // Status webhooks: the receiver's faults fired, and every event came through once accepted.
    expectWebhooksHeld(hooks, receiver.faults, hooked);
    passed = true;
  }, 300_000);
});
