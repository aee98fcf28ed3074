import { request, type Agent } from 'undici';
import { benchArgs } from './lib/args';
import { fillNotices, type FillResult } from './lib/notice-fill';
import { keepAliveAgent, until } from './lib/pool';
import { BENCH_API_KEY, type BenchStack, describeLogLines, startBenchStack } from './lib/stack';
import { describeLatencies, msSince, percentile, perSecond } from './lib/stats';

const HELP = `npm run bench:console -- [options]   (each option also as an env variable, e.g. BENCH_COUNT)
  --count N          notices in Redis (default 1000000)
  --accounts A       accounts they are spread over (default 3)
  --users U          openids per account (default 50000; a few busy, most quiet)
  --days D           the notices' times spread evenly over the last D days (default 7)
  --threads T        worker threads writing the fill, each with its own Redis connection (default 2)
  --concurrency C    notices being written at once in each thread (default 128)
  --runs R           timed calls per query, one at a time (default 30)
  --warmups W        untimed calls per query before them (default 3)
  --drain-timeout-s T  give up waiting for the webhook fan-out to empty the outboxes (default 600)`;

/**
 * What the console's reads cost with a million notices in Redis: fills a throwaway Redis through the
 * store's own API (records, history, search indexes, counters and webhook events as the service
 * writes them, see lib/notice-fill.ts), then times the API calls the console makes, one at a time,
 * beside plain GET /healthz calls (the HTTP floor).
 */
function options() {
  const a = benchArgs(HELP, {
    count: { type: 'string', default: '1000000' },
    accounts: { type: 'string', default: '3' },
    users: { type: 'string', default: '50000' },
    days: { type: 'string', default: '7' },
    threads: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '128' },
    runs: { type: 'string', default: '30' },
    warmups: { type: 'string', default: '3' },
    'drain-timeout-s': { type: 'string', default: '600' },
  });
  return {
    count: a.int('count'),
    accounts: a.int('accounts'),
    users: a.int('users'),
    days: a.int('days'),
    threads: a.int('threads'),
    concurrency: a.int('concurrency'),
    runs: a.int('runs'),
    warmups: a.int('warmups', 0),
    drainTimeoutMs: a.int('drain-timeout-s') * 1000,
  };
}

type Options = ReturnType<typeof options>;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** The overview's goal: it answers in under this with a million notices. */
const GOAL_MS = 300;

/** The call the goal is about. */
const OVERVIEW = 'stats, 24 h (hour buckets), all accounts = OVERVIEW';

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

/** GET `path` of the service with the bench's API key; throws unless 200; returns the body. */
async function get(stack: BenchStack, agent: Agent, path: string): Promise<string> {
  const res = await request(`${stack.service.url}${path}`, { headers: { authorization: `Bearer ${BENCH_API_KEY}` }, dispatcher: agent });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`GET ${path} answered ${res.statusCode}: ${text.slice(0, 300)}`);
  return text;
}

async function fill(stack: BenchStack, o: Options): Promise<FillResult> {
  console.log(`\nfill: ${o.count} notices over ${o.accounts} accounts and ${o.users} openids each, their times spread over the last ${o.days} days; ${o.threads} threads writing ${o.concurrency} notices at once each`);
  const cpu = process.cpuUsage();
  const redisCpu = (await stack.redis.cpuMicros()) / 1e6;
  const t0 = process.hrtime.bigint();
  const result = await fillNotices(stack, {
    count: o.count,
    users: o.users,
    spanMs: o.days * DAY_MS,
    threads: o.threads,
    concurrency: o.concurrency,
    progress: (done) => console.log(`  ${done} written after ${(msSince(t0) / 1000).toFixed(1)} s`),
  });
  const ms = msSince(t0);
  const nodeCpu = process.cpuUsage(cpu);
  const redisUsed = (await stack.redis.cpuMicros()) / 1e6 - redisCpu;
  const perNotice = (seconds: number) => `${((seconds * 1e6) / o.count).toFixed(0)} µs`;
  console.log(`  ${o.count} notices in ${(ms / 1000).toFixed(1)} s = ${perSecond(o.count, ms)} notices/s; store calls of one notice (creation + its moves): ${describeLatencies(result.latencies)}`);
  console.log(`  CPU per notice: Node ${perNotice((nodeCpu.user + nodeCpu.system) / 1e6)} (every thread of this process, the service's webhook fan-out included), Redis ${perNotice(redisUsed)}`);
  for (const [name, n] of Object.entries(result.outcomes)) console.log(`    ${String(n).padStart(8)}  ${name}`);
  // the threads connect a store of their own: the service's must see what they wrote
  const [account, ids] = [...result.sampleIds][0];
  if (!(await stack.store.forAccount(account).get(Object.values(ids)[0]))) throw new Error("the service's store does not see the fill's notices (another key prefix?)");

  // The fan-out hands each terminal move's webhook event on (to no endpoint here) and empties the outboxes, as in a running deployment.
  const t1 = process.hrtime.bigint();
  const waiting = await stack.store.webhooks.waitingEvents();
  await until(async () => (await stack.store.webhooks.waitingEvents()) === 0, 500, o.drainTimeoutMs, async () => `${await stack.store.webhooks.waitingEvents()} webhook events still in the outboxes`);
  console.log(`  webhook outboxes emptied by the service's fan-out ${(msSince(t1) / 1000).toFixed(1)} s after the fill (${waiting} events waiting then)`);

  const used = await stack.redis.usedMemory();
  const keys = await stack.redis.clients[0].dbSize();
  console.log(`  Redis: used_memory ${mb(used)} (${((used / o.count / 1024)).toFixed(2)} KB per notice), ${keys} keys; msgid links and receipt dedupe keys (kept a day) are not written by the fill`);
  return result;
}

interface Query {
  label: string;
  path: string;
}

/** The console's calls, in the order the table prints them. */
async function queries(stack: BenchStack, agent: Agent, filled: FillResult): Promise<Query[]> {
  const now = Date.now();
  const one = stack.appids[0];
  const stats = (hours: number, bucket: string, extra = '') => `/v1/stats?from=${now - hours * HOUR_MS}&to=${now}&bucket=${bucket}${extra}`;
  const users = [...(filled.perUser.get(one) as Map<string, number>).entries()].sort((a, b) => b[1] - a[1]);
  const [busy, busyCount] = users[0];
  const [quiet, quietCount] = users[users.length - 1];
  const sample = filled.sampleIds.get(one) as Record<string, string>;
  const longest = Object.entries(sample).find(([name]) => name.includes('no receipt'))?.[1] ?? Object.values(sample)[0];

  // a later page of the parked notices: the first page's `next`, followed four times
  const parked = `/v1/notifications?account=${one}&status=awaiting_interaction`;
  let cursor: string | null = null;
  let page = 1;
  for (; page < 5; page++) {
    const answer = JSON.parse(await get(stack, agent, cursor === null ? parked : `${parked}&after=${cursor}`)) as { next: string | null };
    if (answer.next === null) break;
    cursor = answer.next;
  }
  return [
    { label: 'stats, last hour (minute buckets), all accounts', path: stats(1, 'minute') },
    { label: 'stats, last hour (minute buckets), one account', path: stats(1, 'minute', `&account=${one}`) },
    { label: OVERVIEW, path: stats(24, 'hour') },
    { label: 'stats, 24 h (hour buckets), one account', path: stats(24, 'hour', `&account=${one}`) },
    { label: 'stats, 7 d (day buckets), all accounts', path: stats(24 * 7, 'day') },
    { label: 'stats, 7 d (day buckets), one account', path: stats(24 * 7, 'day', `&account=${one}`) },
    { label: 'stats, 24 h, one template, all accounts', path: stats(24, 'hour', '&template=order_paid') },
    { label: 'stats/callbacks, 24 h', path: '/v1/stats/callbacks' },
    { label: `search by openid, busy user (${busyCount} notices)`, path: `/v1/notifications?account=${one}&openid=${busy}` },
    { label: `search by openid, quiet user (${quietCount} notice${quietCount === 1 ? '' : 's'})`, path: `/v1/notifications?account=${one}&openid=${quiet}` },
    { label: 'search by field order_no', path: `/v1/notifications?account=${filled.orderNo.account}&field=order_no&value=${filled.orderNo.value}` },
    { label: 'parked, first page', path: parked },
    { label: `parked, page ${page} (after \`next\`)`, path: cursor === null ? parked : `${parked}&after=${cursor}` },
    { label: 'one notice by id (a fallback_sent one)', path: `/v1/notifications/${longest}` },
    { label: 'accounts', path: '/v1/accounts' },
    { label: 'templates of one account', path: `/v1/templates?account=${one}` },
  ];
}

/** `runs` timed calls of `path` one after another, after `warmups` untimed ones. */
async function timed(stack: BenchStack, agent: Agent, path: string, o: Options): Promise<{ samples: number[]; bytes: number }> {
  for (let i = 0; i < o.warmups; i++) await get(stack, agent, path);
  const samples: number[] = [];
  let bytes = 0;
  for (let i = 0; i < o.runs; i++) {
    const t0 = process.hrtime.bigint();
    bytes = Buffer.byteLength(await get(stack, agent, path));
    samples.push(msSince(t0));
  }
  return { samples: samples.sort((a, b) => a - b), bytes };
}

const row = (label: string, samples: readonly number[], bytes: number) =>
  `  ${label.padEnd(56)} ${percentile(samples, 50).toFixed(1).padStart(8)} ${percentile(samples, 95).toFixed(1).padStart(8)} ${(samples.at(-1) as number).toFixed(1).padStart(8)} ${String(bytes).padStart(9)}`;

async function main(): Promise<void> {
  const o = options();
  const stack = await startBenchStack({
    users: 10, // followers the emulator knows: nothing is sent to WeChat here
    receiptDelayMs: 5,
    clientConcurrency: 1,
    accounts: o.accounts,
    config: (c) => ({ ...c, searchFields: ['order_no'] }),
  });
  const agent = keepAliveAgent(1);
  try {
    await stack.service.loop.stop();
    console.log(`wxreach console bench: ${o.count} notices, ${o.accounts} accounts, one in-process service on ${stack.redisDescription}; the work loop is paused (nothing is due but the parked notices' ends)`);
    console.log(`the calls go one at a time over one keep-alive connection, with an API key that may use every account; bench client, HTTP server and wxreach share this Node process`);
    const filled = await fill(stack, o);

    const list = await queries(stack, agent, filled);
    const overview = JSON.parse(await get(stack, agent, `/v1/stats?from=${Date.now() - o.days * DAY_MS}&bucket=day`)) as { totals: Record<string, number> };
    console.log(`\nthe ${o.days}-day overview (every account) counts: ${Object.entries(overview.totals).map(([k, n]) => `${k} ${n}`).join(', ')}`);

    console.log(`\nlatency of each call, ${o.runs} runs after ${o.warmups} warm-ups (ms)`);
    console.log(`  ${'query'.padEnd(56)} ${'p50'.padStart(8)} ${'p95'.padStart(8)} ${'max'.padStart(8)} ${'bytes'.padStart(9)}`);
    const floor = await timed(stack, agent, '/healthz', o);
    console.log(row('GET /healthz (the HTTP floor)', floor.samples, floor.bytes));
    const p95 = new Map<string, number>();
    for (const q of list) {
      const { samples, bytes } = await timed(stack, agent, q.path, o);
      console.log(row(q.label, samples, bytes));
      p95.set(q.label, percentile(samples, 95));
    }
    const overviewP95 = p95.get(OVERVIEW) as number;
    const slowest = [...p95].sort((a, b) => b[1] - a[1])[0];
    const again = await timed(stack, agent, '/healthz', o);
    console.log(row('GET /healthz again, after the queries', again.samples, again.bytes));

    const verdict = overviewP95 < GOAL_MS ? 'under' : 'OVER';
    console.log(`\nverdict: the overview (GET /v1/stats, 24 h, all ${o.accounts} accounts) answers in p95 ${overviewP95.toFixed(1)} ms with ${o.count} notices in Redis: ${verdict} the ${GOAL_MS} ms goal`);
    console.log(`the slowest call: ${slowest[0]}, p95 ${slowest[1].toFixed(1)} ms`);
    console.log(describeLogLines(stack));
  } finally {
    await agent.close();
    await stack.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
