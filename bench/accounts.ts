import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Config } from '../src/config/schema';
import type { NotificationRequest } from '../src/delivery/notification';
import { benchArgs } from './lib/args';
import { acceptAll, acknowledgedPushes, countStatuses, readRecord, sampleLatencies, stepMs, untilReceipted } from './lib/flow';
import { runTimed, until } from './lib/pool';
import { type ApiClient, type BenchStack, describeCalls, describeLogLines, notificationBody, startBenchStack } from './lib/stack';
import { deltaPer, describeDelta, describeLatencies, median, msSince, percentile, perSecond } from './lib/stats';
import { REDIS_KINDS, type RedisKind } from './lib/throwaway-redis';

const HELP = `npm run bench:accounts -- [options]   (each option also as an env variable, e.g. BENCH_FLOOD)
Fairness (accounts A and B):
  --flood N              notices account A enqueues as fast as the service takes them (default 100000)
  --flood-via V          api: POST /v1/notifications (default); in-process: Notifications.accept, the step the API runs
  --probes P             single notices of account B, sent while A's backlog is large (default 5)
  --fairness-redis R     single (default) or cluster
Throughput (one redis-server, then a local 3-master Redis Cluster):
  --accounts K           accounts, the notices spread evenly over them (default 10)
  --count N              notices per run (default 20000)
  --samples S            notices read back for the accept→delivered latency (default 1000)
Both:
  --concurrency C        client requests in flight (default 64)
  --receipt-delay-ms D   emulator's delay before each receipt (default 5)
  --worker-concurrency W the service's worker.concurrency (default: config/default.json)
  --only W               fairness or throughput (default: both)
  --quick                a fast check: --flood 5000 --probes 3 --count 2000 unless given
  --timeout-s T          give up waiting for a run after T seconds (default 600)`;

function options() {
  const a = benchArgs(HELP, {
    flood: { type: 'string' },
    'flood-via': { type: 'string', default: 'api' },
    probes: { type: 'string' },
    'fairness-redis': { type: 'string', default: 'single' },
    accounts: { type: 'string', default: '10' },
    count: { type: 'string' },
    samples: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '64' },
    'receipt-delay-ms': { type: 'string', default: '5' },
    'worker-concurrency': { type: 'string' },
    only: { type: 'string' },
    quick: { type: 'boolean' },
    'timeout-s': { type: 'string', default: '600' },
  });
  const orQuick = (name: 'flood' | 'probes' | 'count', full: number, quick: number) => (a[name] === undefined ? (a.quick ? quick : full) : a.int(name));
  const oneOf = <T extends string>(name: 'flood-via' | 'fairness-redis' | 'only', allowed: readonly T[]): T => {
    const v = a[name] as T;
    if (!allowed.includes(v)) throw new Error(`--${name} must be one of ${allowed.join(', ')}, got ${v}`);
    return v;
  };
  const workerConcurrency = a['worker-concurrency'] === undefined ? undefined : a.int('worker-concurrency');
  return {
    flood: orQuick('flood', 100_000, 5000),
    floodVia: oneOf('flood-via', ['api', 'in-process'] as const),
    probes: orQuick('probes', 5, 3),
    fairnessRedis: oneOf('fairness-redis', REDIS_KINDS),
    accounts: a.int('accounts'),
    count: orQuick('count', 20_000, 2000),
    samples: a.int('samples'),
    concurrency: a.int('concurrency'),
    receiptDelayMs: a.int('receipt-delay-ms', 0),
    config: (c: Config): Config => (workerConcurrency ? { ...c, worker: { ...c.worker, concurrency: workerConcurrency } } : c),
    only: a.only === undefined ? undefined : oneOf('only', ['fairness', 'throughput'] as const),
    timeoutMs: a.int('timeout-s') * 1000,
  };
}

type Options = ReturnType<typeof options>;

const USERS = 1000;
const REDIS_LABELS: Record<RedisKind, string> = { single: 'one Redis', cluster: 'Redis Cluster, 3 masters' };
/** Notices of the A account around a probe (accepted just before and just after B's) whose waits are shown next to B's. */
const NEIGHBOURS = 20;

const int = (n: number) => n.toLocaleString('en');
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const pad = (s: string | number, n: number) => String(s).padStart(n);
const accountsText = (o: Options) => `${o.accounts} account${o.accounts === 1 ? '' : 's'}`;

function settingsLine(stack: BenchStack): string {
  const w = stack.config.worker;
  return `service: one in-process instance on ${stack.redisDescription}, worker concurrency ${w.concurrency}, batch ${w.batchSize}, poll ${w.pollMs} ms, wechat.maxInFlight ${stack.config.wechat.maxInFlight}`;
}

/** `per` notices of each account, delivered before anything is timed (tokens fetched, template lists synced). */
async function warmUp(stack: BenchStack, o: Options, per: number): Promise<void> {
  const t = process.hrtime.bigint();
  const n = per * stack.appids.length;
  const since = acknowledgedPushes(stack);
  await acceptAll(stack, n, o.concurrency, (i) => notificationBody('order_paid', stack.openid(i % USERS), i, stack.appids[i % stack.appids.length]));
  await untilReceipted(stack, since, n, o.timeoutMs);
  console.log(`warm-up: ${n} notices over ${stack.appids.length} accounts delivered in ${seconds(msSince(t))} (not counted)`);
}

/** Template sends the emulator has taken for `appid`. */
const sentBy = (stack: BenchStack, appid: string) => stack.emulator.control.account(appid).stats().templateQuotaUsedToday;

interface Probe {
  /** A's notices accepted when B's was sent, and of those not yet sent to WeChat. */
  aAccepted: number;
  aBacklog: number;
  /** Index in A's flood around which A's "same moment" notices are taken. */
  aroundIndex: number;
  postMs: number;
  sentMs: number | null;
  deliveredMs: number | null;
  status: string;
}

/**
 * B's single notice through the API (its own connection, as another business's client would be),
 * followed in the store until it is terminal.
 */
async function probe(stack: BenchStack, b: ApiClient, appidB: string, n: number, aAccepted: number, aBacklog: number, aroundIndex: number, timeoutMs: number): Promise<Probe> {
  const t = process.hrtime.bigint();
  const id = await b.enqueue(notificationBody('order_paid', stack.openid(n), 900_000 + n, appidB));
  const postMs = msSince(t);
  let status = 'queued';
  await until(
    async () => ['delivered', 'fallback_sent', 'failed'].includes((status = (await readRecord(stack, id))?.fields.status ?? '(gone)')),
    10,
    timeoutMs,
    async () => `B's notice ${id} is still ${status}`,
  );
  const history = (await readRecord(stack, id))?.history ?? [];
  return { aAccepted, aBacklog, aroundIndex, postMs, sentMs: stepMs(history, 'queued', 'awaiting_receipt'), deliveredMs: stepMs(history, 'queued', 'delivered'), status };
}

/** Accept → sent and accept → delivered (ms) of A's notices `ids`, medians. */
async function waitsOf(stack: BenchStack, ids: readonly string[]): Promise<{ sent: number; delivered: number }> {
  const records = await Promise.all(ids.map((id) => readRecord(stack, id)));
  const step = (to: string) => median(records.map((r) => stepMs(r?.history ?? [], 'queued', to)).filter((ms): ms is number => ms !== null));
  return { sent: step('awaiting_receipt'), delivered: step('delivered') };
}

/** Where the probes go: evenly from 20 % of the flood accepted to all of it. */
function probePoints(flood: number, probes: number): number[] {
  const first = Math.max(1, Math.round(flood / 5));
  const points = Array.from({ length: probes }, (_, p) => (probes === 1 ? flood : Math.round(first + ((flood - first) * p) / (probes - 1))));
  return [...new Set(points)];
}

/**
 * Account A (a merchant flooding the service) enqueues `flood` notices; while its backlog is large,
 * account B enqueues one notice at a time; how long B's took from accept to `delivered`, next to
 * how long A's accepted at the same moment took.
 */
async function fairness(o: Options): Promise<void> {
  const stack = await startBenchStack({ users: USERS, receiptDelayMs: o.receiptDelayMs, clientConcurrency: o.concurrency, accounts: 2, redis: o.fairnessRedis, config: o.config });
  const [appidA, appidB] = stack.appids;
  const via = o.floodVia === 'api' ? `POST /v1/notifications, ${o.concurrency} in flight` : `in-process Notifications.accept (the API's own step, no HTTP), ${o.concurrency} at a time`;
  console.log(`\n== Fairness: account A enqueues ${int(o.flood)} notices (${via}); account B sends ${o.probes} single notices through the API while A's backlog is large`);
  console.log(`${settingsLine(stack)}; receipt delay ${o.receiptDelayMs} ms`);
  try {
    await warmUp(stack, o, 50);
    const b = stack.apiClient(1);
    const sentBefore = sentBy(stack, appidA);
    const account = stack.service.account(appidA);
    const acceptA =
      o.floodVia === 'api'
        ? (i: number) => stack.enqueue(notificationBody('order_paid', stack.openid(i % USERS), i, appidA))
        : async (i: number) => {
            const { data, ...rest } = notificationBody('order_paid', stack.openid(i % USERS), i) as { data: Record<string, string> };
            const request = { ...rest, data: Object.fromEntries(Object.entries(data).map(([k, value]) => [k, { value }])) } as NotificationRequest;
            const { id } = await account.delivery.notifications.accept(request, 'bench');
            stack.service.loop.poke(); // what the API does after an accept
            return id;
          };
    const points = probePoints(o.flood, o.probes);
    const probes: Promise<Probe>[] = [];
    const ids: string[] = new Array(o.flood);
    let accepted = 0;
    const receiptsBefore = acknowledgedPushes(stack);
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const t0 = process.hrtime.bigint();
    await runTimed(o.flood, o.concurrency, async (i) => {
      ids[i] = await acceptA(i);
      accepted++;
      if (accepted !== points[probes.length]) return;
      const pending = probe(stack, b, appidB, probes.length, accepted, accepted - (sentBy(stack, appidA) - sentBefore), i, o.timeoutMs);
      pending.catch(() => undefined); // awaited below; if the run fails first, its failure is the one reported
      probes.push(pending);
    });
    const acceptMs = msSince(t0);
    console.log(`A: ${int(o.flood)} accepted in ${seconds(acceptMs)} = ${int(perSecond(o.flood, acceptMs))}/s`);
    await untilReceipted(stack, receiptsBefore, o.flood + points.length, o.timeoutMs);
    const drainMs = msSince(t0);
    loopDelay.disable();
    console.log(`A: all ${int(o.flood)} terminal ${seconds(drainMs)} after the first accept = ${int(perSecond(o.flood, drainMs))} notices/s end to end`);
    console.log(`event-loop delay of the one Node process (client, emulator and service) meanwhile: p50 ${(loopDelay.percentile(50) / 1e6).toFixed(0)} ms, p99 ${(loopDelay.percentile(99) / 1e6).toFixed(0)} ms, max ${(loopDelay.max / 1e6).toFixed(0)} ms`);

    const results = await Promise.all(probes);
    const rows = await Promise.all(
      results.map(async (p) => ({ p, a: await waitsOf(stack, ids.slice(Math.max(0, p.aroundIndex - NEIGHBOURS / 2), p.aroundIndex + NEIGHBOURS / 2)) })),
    );
    const ms = (v: number | null) => (v === null ? 'never' : `${int(v)} ms`);
    console.log(`\n${'probe'.padEnd(6)}${pad('A accepted', 11)}${pad('A backlog*', 12)}${pad('B POST', 9)}${pad('B →sent', 10)}${pad('B →delivered', 14)}${pad(`A →sent**`, 12)}${pad('A →delivered**', 17)}`);
    rows.forEach(({ p, a }, k) => {
      console.log(
        `${String(k + 1).padEnd(6)}${pad(int(p.aAccepted), 11)}${pad(int(p.aBacklog), 12)}${pad(`${p.postMs.toFixed(0)} ms`, 9)}${pad(ms(p.sentMs), 10)}${pad(ms(p.deliveredMs), 14)}${pad(seconds(a.sent), 12)}${pad(seconds(a.delivered), 17)}`,
      );
    });
    console.log(`*  A's notices accepted but not yet sent to WeChat when B's was sent`);
    console.log(`** median of the ${NEIGHBOURS} A notices accepted around the same moment; → times are from the notice's accept (its \`queued\` history entry)`);
    const delivered = results.map((p) => p.deliveredMs).filter((v): v is number => v !== null);
    const sent = results.map((p) => p.sentMs).filter((v): v is number => v !== null);
    const sorted = [...delivered].sort((x, y) => x - y);
    const backlogs = results.map((p) => p.aBacklog);
    const met = delivered.length === results.length && sorted.at(-1)! < 1000;
    console.log(
      `\nFAIRNESS: B's single notice, accept → delivered, while A had ${int(Math.min(...backlogs))}–${int(Math.max(...backlogs))} notices waiting: ` +
        `min ${int(sorted[0])} ms, median ${int(median(delivered))} ms, max ${int(sorted.at(-1)!)} ms (accept → sent: median ${int(median(sent))} ms, max ${int(Math.max(...sent))} ms); ` +
        `goal < 1000 ms: ${met ? 'met' : 'NOT met'}${delivered.length < results.length ? ` (${results.length - delivered.length} of B's notices never delivered)` : ''}`,
    );
    console.log(`  A's notices accepted at those moments waited ${rows.map(({ a }) => seconds(a.delivered)).join(', ')} (median each) for \`delivered\``);
    console.log(`  statuses: A ${JSON.stringify(await countStatuses(stack, ids))}, B ${JSON.stringify(Object.fromEntries(results.map((p, k) => [k + 1, p.status])))}`);
    console.log(`  ${describeCalls(stack)}`);
    reportLogLines(stack);
  } finally {
    await stack.close();
  }
}

interface ThroughputRow {
  redis: string;
  acceptPerSecond: number;
  endToEndPerSecond: number;
  latency: string;
  commandsPerNotice: number;
  /** Each server's share of the commands, in %. */
  spread: number[];
}

/** `count` notices spread evenly over the accounts (and 1000 users each), accept → all terminal. */
async function throughput(kind: RedisKind, o: Options): Promise<ThroughputRow> {
  const stack = await startBenchStack({ users: USERS, receiptDelayMs: o.receiptDelayMs, clientConcurrency: o.concurrency, accounts: o.accounts, redis: kind, config: o.config });
  console.log(`\n== Throughput on ${stack.redisDescription}: ${int(o.count)} notices over ${accountsText(o)}, POST /v1/notifications ${o.concurrency} in flight`);
  console.log(`${settingsLine(stack)}; receipt delay ${o.receiptDelayMs} ms`);
  try {
    await warmUp(stack, o, 50);
    const k = stack.appids.length;
    const callsBefore = await stack.redis.commandCalls();
    const byServerBefore = await stack.redis.totalCallsByServer();
    const receiptsBefore = acknowledgedPushes(stack);
    const t0 = process.hrtime.bigint();
    const accepted = await acceptAll(stack, o.count, o.concurrency, (i) => notificationBody('order_paid', stack.openid(Math.floor(i / k) % USERS), i, stack.appids[i % k]));
    const acceptPerSecond = perSecond(o.count, accepted.ms);
    console.log(`  accept:      ${int(o.count)} in ${seconds(accepted.ms)} = ${int(acceptPerSecond)}/s; latency ${describeLatencies(accepted.latencies)}`);
    await untilReceipted(stack, receiptsBefore, o.count, o.timeoutMs);
    const e2eMs = msSince(t0);
    const endToEndPerSecond = perSecond(o.count, e2eMs);
    console.log(`  end-to-end:  all terminal ${seconds(e2eMs)} after the first POST = ${int(endToEndPerSecond)} notices/s`);
    const callsAfter = await stack.redis.commandCalls();
    const byServer = (await stack.redis.totalCallsByServer()).map((n, i) => n - byServerBefore[i]);
    const sample = await sampleLatencies(stack, accepted.ids, o.samples, 'delivered');
    const latency = `p50 ${seconds(percentile(sample.latencies.sort((x, y) => x - y), 50))}, p99 ${seconds(percentile(sample.latencies, 99))}`;
    console.log(`  accept→delivered (${sample.latencies.length} sampled${sample.missing ? `, ${sample.missing} never delivered` : ''}; includes the wait in the backlog): ${latency}`);
    console.log(`  statuses: ${JSON.stringify(await countStatuses(stack, accepted.ids))}`);
    const delta = deltaPer(callsBefore, callsAfter, o.count);
    console.log(`  redis commands per notice, ${byServer.length > 1 ? 'summed over the masters' : 'one server'} (commands inside Lua scripts counted): ${describeDelta(delta)}`);
    const total = byServer.reduce((sum, n) => sum + n, 0);
    const spread = byServer.map((n) => (100 * n) / total);
    if (byServer.length > 1) console.log(`  share of the commands per master: ${spread.map((s) => `${s.toFixed(1)} %`).join(', ')}`);
    console.log(`  ${describeCalls(stack)}`);
    reportLogLines(stack);
    return { redis: REDIS_LABELS[kind], acceptPerSecond, endToEndPerSecond, latency, commandsPerNotice: delta.reduce((sum, [, v]) => sum + v, 0), spread };
  } finally {
    await stack.close();
  }
}

function reportLogLines(stack: BenchStack): void {
  console.log(`  ${describeLogLines(stack)}`);
}

async function main(): Promise<void> {
  const o = options();
  const t = process.hrtime.bigint();
  console.log(`wxreach accounts bench${o.only ? ` (${o.only} only)` : ''}: the client, the emulator and the service share this one Node process`);
  if (o.only !== 'throughput') await fairness(o);
  if (o.only !== 'fairness') {
    const rows: ThroughputRow[] = [];
    for (const kind of REDIS_KINDS) rows.push(await throughput(kind, o));
    const w = 27;
    console.log(`\nTHROUGHPUT, ${int(o.count)} notices over ${accountsText(o)}:`);
    console.log(`${''.padEnd(w)}${rows.map((r) => pad(r.redis, w)).join('')}`);
    console.log(`${'POST /v1/notifications/s'.padEnd(w)}${rows.map((r) => pad(int(r.acceptPerSecond), w)).join('')}`);
    console.log(`${'end to end, notices/s'.padEnd(w)}${rows.map((r) => pad(int(r.endToEndPerSecond), w)).join('')}`);
    console.log(`${'accept→delivered'.padEnd(w)}${rows.map((r) => pad(r.latency, w)).join('')}`);
    console.log(`${'Redis commands per notice'.padEnd(w)}${rows.map((r) => pad(r.commandsPerNotice.toFixed(1), w)).join('')}`);
    console.log(`${'  share per server'.padEnd(w)}${rows.map((r) => pad(r.spread.map((s) => `${s.toFixed(0)} %`).join(' / '), w)).join('')}`);
  }
  console.log(`\nwall time ${seconds(msSince(t))}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
