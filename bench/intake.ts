import path from 'node:path';
import { request, type Agent } from 'undici';
import { STREAM_GROUP } from '../src/delivery/stream-intake';
import { logLevelOf } from '../src/log/logger';
import { notificationBody as notificationSchema } from '../src/http/notification-schema';
import { DEFAULT_SHARDS_PER_ACCOUNT } from '../src/store/record-ids';
import { deadLetterStream } from '../src/store/redis-keys';
import { benchArgs } from './lib/args';
import { startChildProfile, stopChildProfile, usageOf } from './lib/child-server';
import { describeProfile } from './lib/cpu-profile';
import { acceptAll } from './lib/flow';
import { keepAliveAgent, runTimed, until } from './lib/pool';
import { respCommand, sendBatches, type RespBatch } from './lib/raw-redis';
import { BENCH_API_KEY, type ChildServiceStack, describeLogLines, notificationBody, startBenchStack } from './lib/stack';
import { deltaPer, describeCommandTime, describeDelta, describeLatencies, describeRatio, median, msSince, perSecond } from './lib/stats';

const HELP = `npm run bench:intake -- [options]   (each option also as an env variable, e.g. BENCH_COUNT)
  --count N              notices per way in (default 20000)
  --concurrency C        single calls in flight (default 64)
  --batch-size B         notices per batch call (default 1000)
  --batch-concurrency K  batch calls in flight (default 2)
  --rounds R             batch runs, each followed by the bare limit (the same writes sent straight to Redis), so a
                         change in the machine's speed falls on both alike; the ratio is of the medians (default 3)
  --keys                 every notice with an idempotency key (one more Redis command each)
  --with-delivery        keep the work loop sending while notices come in (default: paused, intake alone)
  --no-single            skip the single-call run
  --no-batch             skip the batch run
  --no-stream            skip the Redis Stream run
  --log-level L          the service's log level (default: the config's, info, as deployed: a line per accepted notice)
  --profile DIR          profile the service's process (V8's CPU profiler) over each measured run, written
                         to DIR, and print the functions that took the most time`;

function options() {
  const a = benchArgs(HELP, {
    count: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '64' },
    'batch-size': { type: 'string', default: '1000' },
    'batch-concurrency': { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
    keys: { type: 'boolean' },
    'with-delivery': { type: 'boolean' },
    'no-single': { type: 'boolean' },
    'no-batch': { type: 'boolean' },
    'no-stream': { type: 'boolean' },
    profile: { type: 'string' },
    'log-level': { type: 'string' },
  });
  return {
    count: a.int('count'),
    concurrency: a.int('concurrency'),
    batchSize: a.int('batch-size'),
    batchConcurrency: a.int('batch-concurrency'),
    rounds: a.int('rounds'),
    keys: a.keys,
    withDelivery: a['with-delivery'],
    single: !a['no-single'],
    batch: !a['no-batch'],
    stream: !a['no-stream'],
    profile: a.profile === undefined ? undefined : path.resolve(a.profile),
    logLevel: a['log-level'] === undefined ? undefined : logLevelOf(a['log-level']),
  };
}

type Options = ReturnType<typeof options>;

/**
 * Measures `run` (which takes in `o.count` notices; the service profiled with --profile): wall
 * time, the CPU time of the service's process, of this one (the bench client) and of Redis, and
 * Redis commands, each per notice. Returns the rate (notices/s).
 */
async function measured(stack: ChildServiceStack, o: Options, run: () => Promise<string>): Promise<number> {
  const { count } = o;
  const commands = await stack.redis.commandStats();
  const redisCpu = await stack.redis.cpuMicros();
  const serviceCpu = (await usageOf(stack.serviceProcess)).cpuMicros;
  const cpu = process.cpuUsage();
  if (o.profile !== undefined) await startChildProfile(stack.serviceProcess);
  const t0 = process.hrtime.bigint();
  const detail = await run();
  const ms = msSince(t0);
  const client = process.cpuUsage(cpu);
  const service = (await usageOf(stack.serviceProcess)).cpuMicros - serviceCpu;
  const redis = (await stack.redis.cpuMicros()) - redisCpu;
  if (o.profile !== undefined) await stopChildProfile(stack.serviceProcess);
  const perNotice = (micros: number) => `${(micros / count).toFixed(0)} µs`;
  const busy = (micros: number) => `${((micros / 1e3 / ms) * 100).toFixed(0)} %`;
  console.log(`  ${count} notices in ${(ms / 1000).toFixed(2)} s = ${perSecond(count, ms)} notices/s; ${detail}`);
  console.log(
    `  CPU per notice: service ${perNotice(service)} (busy ${busy(service)} of one core), Redis ${perNotice(redis)} (${busy(redis)}), ` +
      `bench client ${perNotice(client.user + client.system)} (${busy(client.user + client.system)})`,
  );
  const commandsAfter = await stack.redis.commandStats();
  console.log(`  redis commands per notice (inside Lua scripts counted): ${describeDelta(deltaPer(commands.calls, commandsAfter.calls, count))}`);
  console.log(`  Redis's time per notice in its commands (INFO commandstats: wall-clock, so waits for a core count too; a script's counts the commands it calls): ${describeCommandTime(deltaPer(commands.micros, commandsAfter.micros, count))}`);
  if (o.profile !== undefined) console.log(describeProfile(o.profile, 15, 'CPU profile of the service'));
  return perSecond(count, ms);
}

/** Users each run sends to. */
const USERS = 1000;
/**
 * The `i`-th notice of the run numbered `run` (its own order numbers; its idempotency keys with
 * --keys), to one of the USERS users from `firstUser` on. Each batch round has users of its own,
 * so a round's search-index entries go to fresh keys as a campaign's would, not to users already
 * holding the earlier rounds' hundreds.
 */
const bodyOf = (stack: ChildServiceStack, run: number, i: number, firstUser = 0) => notificationBody('order_paid', stack.openid(firstUser + (i % USERS)), run * 10_000_000 + i);
const keyOf = (run: number, i: number) => `bench-${run}-${i}`;

/** POSTs the JSON `body`; throws unless the answer has status `expected`; returns the answer. */
async function post(stack: ChildServiceStack, agent: Agent, path: string, body: string | Buffer, expected: number, headers: Record<string, string> = {}): Promise<unknown> {
  const res = await request(`${stack.serviceUrl}${path}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_API_KEY}`, ...headers },
    dispatcher: agent,
  });
  const answer = await res.body.json();
  if (res.statusCode !== expected) throw new Error(`POST ${path} answered ${res.statusCode}: ${JSON.stringify(answer).slice(0, 300)}`);
  return answer;
}

async function single(stack: ChildServiceStack, o: Options, agent: Agent): Promise<void> {
  console.log(`\n(a) POST /v1/notifications, one notice per call, ${o.concurrency} calls in flight`);
  await measured(stack, o, async () => {
    const latencies = await runTimed(o.count, o.concurrency, async (i) => {
      await post(stack, agent, '/v1/notifications', JSON.stringify(bodyOf(stack, 1, i)), 202, o.keys ? { 'idempotency-key': keyOf(1, i) } : {});
    });
    return `call latency ${describeLatencies(latencies)}`;
  });
}

/** Round `round` of batch intake; its notices are numbered as run 10 + round. */
async function batch(stack: ChildServiceStack, o: Options, agent: Agent, round: number): Promise<number> {
  const calls = Math.ceil(o.count / o.batchSize);
  const run = 10 + round;
  console.log(` round ${round + 1}: POST /v1/notifications/batch`);
  // the calls' bodies are written (as UTF-8 bytes) before the clock starts: making them is the
  // business's work, not wxreach's
  const bodies = Array.from({ length: calls }, (_, c) => {
    const items = Array.from({ length: Math.min(o.batchSize, o.count - c * o.batchSize) }, (_, k) => {
      const i = c * o.batchSize + k;
      const body = bodyOf(stack, run, i, round * USERS);
      return o.keys ? { ...body, idempotencyKey: keyOf(run, i) } : body;
    });
    return Buffer.from(JSON.stringify({ notifications: items }));
  });
  const bytes = bodies.reduce((sum, body) => sum + body.length, 0);
  return measured(stack, o, async () => {
    const latencies = await runTimed(calls, o.batchConcurrency, async (c) => {
      const answer = (await post(stack, agent, '/v1/notifications/batch', bodies[c], 207)) as { results: Array<{ status: number }> };
      const refused = answer.results.filter((r) => r.status !== 202);
      if (refused.length > 0) throw new Error(`${refused.length} items not accepted, e.g. ${JSON.stringify(refused[0])}`);
    });
    return `call latency ${describeLatencies(latencies)}; ${(bytes / calls / 1024).toFixed(0)} KB per call`;
  });
}

/** The records batch intake stored (up to `count`), as their hashes hold them: field, value, … */
async function storedRecords(stack: ChildServiceStack, count: number): Promise<string[][]> {
  const client = stack.redis.clients[0];
  const keys: string[] = [];
  for await (const found of client.scanIterator({ MATCH: '{*}:rec:*', COUNT: 1000 })) {
    keys.push(...found);
    if (keys.length >= count) break;
  }
  const hashes = await Promise.all(keys.slice(0, count).map((key) => client.hGetAll(key)));
  return hashes.map((hash) => Object.entries(hash).flat());
}

/**
 * The bare limit of batch intake: this Redis doing the writes the creation script does for each
 * notice, sent straight from this process with no Lua, HTTP, validation or encoding while timed.
 * Per notice, a copy of a record batch intake stored (same fields, same sizes) under a new key:
 * EXISTS, HSET, EXPIRE, then its user's search index (ZADD, the trim, EXPIRE); per call, one ZADD
 * per shard of its notices to that shard's due schedule (with --keys, the idempotency keys are not
 * among them). The same calls and calls in flight as (b); every reply is checked (sendBatches).
 */
async function redisAlone(stack: ChildServiceStack, o: Options, round: number, records: readonly string[][]): Promise<number> {
  // the expiry and the index's cut-off as the service gives them to the script (createShared)
  const ttlSeconds = stack.config.retentionDays * 86_400;
  const ttl = String(ttlSeconds);
  const at = Date.now();
  const cutOff = `(${at - ttlSeconds * 1000}`;
  const batches: RespBatch[] = [];
  for (let from = 0; from < o.count; from += o.batchSize) {
    let bytes = '';
    const n = Math.min(o.batchSize, o.count - from);
    // due entries per shard, as the script adds them: one ZADD per shard and call
    const due: string[][] = Array.from({ length: DEFAULT_SHARDS_PER_ACCOUNT }, () => []);
    for (let i = from; i < from + n; i++) {
      const shard = i % DEFAULT_SHARDS_PER_ACCOUNT;
      // as long as a record id's parts: the local id in the index, the whole id on the schedule
      const local = `n${String(i).padStart(24, '0')}`;
      const id = `${local}.${stack.appids[0]}`;
      const key = `bare${round}:{${shard}}:rec:${id}`;
      const index = `bare${round}:{${shard}}:ix:${stack.openid(i % USERS)}`;
      bytes += respCommand(['EXISTS', key]) + respCommand(['HSET', key, ...records[i % records.length]]) + respCommand(['EXPIRE', key, ttl]);
      bytes += respCommand(['ZADD', index, String(at), local]) + respCommand(['ZREMRANGEBYSCORE', index, '-inf', cutOff]) + respCommand(['EXPIRE', index, ttl]);
      due[shard].push(String(at), id);
    }
    let commands = n * 6;
    due.forEach((pairs, shard) => {
      if (pairs.length === 0) return;
      bytes += respCommand(['ZADD', `bare${round}:{${shard}}:due`, ...pairs]);
      commands += 1;
    });
    batches.push({ bytes: Buffer.from(bytes), commands });
  }
  console.log(` round ${round + 1}: the bare limit`);
  // nothing of the service's to profile here
  return measured(stack, { ...o, profile: undefined }, async () => {
    await sendBatches(Number(new URL(stack.redisUrls[0]).port), batches, o.batchConcurrency);
    return `${records[0].length / 2} fields per record`;
  });
}

/** Batch intake in rounds, each followed by its bare limit; then the medians and their ratio. */
async function batches(stack: ChildServiceStack, o: Options, agent: Agent): Promise<void> {
  console.log(
    `\n(b) POST /v1/notifications/batch, ${o.batchSize} notices per call, ${o.batchConcurrency} calls in flight, ${o.rounds} round(s), each followed by ` +
      `the bare limit: the same writes sent straight to this Redis (as RESP bytes made before the clock, the same calls in flight, no Lua); each round on the data of those before`,
  );
  const rates: number[] = [];
  const limits: number[] = [];
  // what the bare limit copies, read once the first round has stored it
  let records: string[][] | undefined;
  for (let round = 0; round < o.rounds; round++) {
    rates.push(await batch(stack, o, agent, round));
    records ??= await storedRecords(stack, 1000);
    if (records.length === 0) throw new Error('batch intake stored no record for the bare limit to copy');
    limits.push(await redisAlone(stack, o, round, records));
  }
  console.log(`  batch intake = ${describeRatio(rates, limits)} the bare limit (medians ${median(rates)}/s and ${median(limits)}/s)`);
}

async function stream(stack: ChildServiceStack, o: Options): Promise<void> {
  const name = stack.store.streams!.group(stack.config.intake.stream, STREAM_GROUP).stream;
  const business = stack.redis.clients[0];
  console.log(`\n(c) Redis Stream ${name}: the business XADDs (pipelined, 500 at a time) while wxreach reads, stores and acknowledges`);
  await measured(stack, o, async () => {
    const t0 = process.hrtime.bigint();
    for (let from = 0; from < o.count; from += 500) {
      await Promise.all(
        Array.from({ length: Math.min(500, o.count - from) }, (_, k) => {
          const i = from + k;
          return business.xAdd(name, '*', { notification: JSON.stringify(bodyOf(stack, 3, i)), ...(o.keys ? { idempotencyKey: keyOf(3, i) } : {}) });
        }),
      );
    }
    const addedMs = msSince(t0);
    await until(
      async () => {
        const group = ((await business.xInfoGroups(name)) as Array<Record<string, unknown>>).find((g) => g.name === STREAM_GROUP);
        return group?.lag === 0 && group.pending === 0;
      },
      20,
      600_000,
      async () => JSON.stringify(await business.xInfoGroups(name)),
    );
    return `all added after ${(addedMs / 1000).toFixed(2)} s`;
  });
  console.log(`  dead letters: ${await business.xLen(deadLetterStream(name))}`);
}

/** What validating a notice costs alone: the schema the API checks each body with, on the same bodies. */
function schemaCost(stack: ChildServiceStack, count: number): string {
  const bodies = Array.from({ length: count }, (_, i) => JSON.parse(JSON.stringify(bodyOf(stack, 4, i))) as unknown);
  const pass = () => {
    const t0 = process.hrtime.bigint();
    for (const body of bodies) if (!notificationSchema.safeParse(body).success) throw new Error('bench body does not validate');
    return msSince(t0);
  };
  // this process has not run the schema before (the service runs in its own): a first pass warms it up
  pass();
  return `${((pass() * 1000) / count).toFixed(1)} µs`;
}

async function main(): Promise<void> {
  const o = options();
  // the emulator knows every round's users (with --with-delivery the work loop sends to them)
  const stack = await startBenchStack({ users: USERS * Math.max(1, o.rounds), receiptDelayMs: 5, clientConcurrency: o.concurrency, service: 'child', workLoop: o.withDelivery, profileDir: o.profile, config: (c) => ({ ...c, logLevel: o.logLevel ?? c.logLevel }) });
  const agent = keepAliveAgent(Math.max(o.concurrency, o.batchConcurrency));
  try {
    console.log(`wxreach intake bench: ${o.count} notices per way in, ${o.keys ? 'each with' : 'without'} an idempotency key; one service on ${stack.redisDescription}`);
    console.log(
      `the service runs in a process of its own, as deployed, logging at ${stack.config.logLevel} to its stdout (a pipe a grep process reads, as a log shipper); its work loop ${o.withDelivery ? 'sends as notices come in' : 'is stopped: the figures are intake alone'}`,
    );
    const warm = Math.min(2000, o.count);
    await acceptAll(stack, warm, o.concurrency, (i) => bodyOf(stack, 0, i));
    console.log(`warm-up: ${warm} single calls (not counted)`);
    if (o.single) await single(stack, o, agent);
    if (o.batch) await batches(stack, o, agent);
    if (o.stream) await stream(stack, o);
    console.log(`\nthe notification schema alone (zod, in this process): ${schemaCost(stack, 5000)} per notice`);
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
