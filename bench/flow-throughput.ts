import path from 'node:path';
import { benchArgs } from './lib/args';
import { startChildProfile, stopChildProfile, usageOf } from './lib/child-server';
import { describeProfile } from './lib/cpu-profile';
import { acceptAll, countStatuses, sampleLatencies, untilAllTerminal } from './lib/flow';
import { runTimed } from './lib/pool';
import { measureEmulatorRate } from './lib/emulator-rate';
import { countRoundTrips, describeRoundTrips } from './lib/round-trips';
import { BENCH_TEMPLATES, type ChildServiceStack, describeCalls, describeLogLines, notificationBody, startBenchStack } from './lib/stack';
import { deltaPer, describeDelta, describeLatencies, describeRatio, median, msSince, perSecond } from './lib/stats';

const HELP = `npm run bench:flow -- [options]   (each option also as an env variable, e.g. BENCH_COUNT)
  --count N              notifications per run (default 20000)
  --rounds R             template-path runs, each followed by the emulator alone, so a change in the machine's
                         speed falls on both alike; the ratios are of the medians (default 3)
  --concurrency C        client requests in flight (default 64)
  --receipt-delay-ms D   emulator's delay before each receipt (default 5)
  --samples S            ids read back for accept→final latency (default 1000)
  --worker-concurrency W the service's worker.concurrency (default: config/default.json)
  --aes                  safe-mode (encrypted) pushes instead of plaintext
  --no-fallback          skip the fallback run
  --round-trips N        notifications of the extra pass that counts round trips with MONITOR (default 500; 0 skips it)
  --emulator-s S         seconds of the emulator-alone run, the ceiling of the template path (default 5; 0 skips it)
  --timeout-s T          give up waiting for a run after T seconds (default 300)
  --profile DIR          profile the service's process (V8's CPU profiler) over the timed template run, written
                         to DIR, and print the functions that took the most of its time`;

/**
 * What one wxreach instance sustains end to end: a throwaway redis-server, one service in a child
 * process of its own on a RedisStore (as deployed), and in this process the business's client and
 * the emulator (receipts on), as in the emulator-alone run it is compared with. After a warm-up:
 * (a) accept throughput of POST /v1/notifications and (b) accept → `delivered` (template +
 * receipt), in rounds, each followed by the emulator alone; (c) the fallback: template deleted,
 * users with an open customer-service window → `fallback_sent`.
 */
function options() {
  const a = benchArgs(HELP, {
    count: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '64' },
    'receipt-delay-ms': { type: 'string', default: '5' },
    samples: { type: 'string', default: '1000' },
    'worker-concurrency': { type: 'string' },
    aes: { type: 'boolean' },
    'no-fallback': { type: 'boolean' },
    'round-trips': { type: 'string', default: '500' },
    'emulator-s': { type: 'string', default: '5' },
    'timeout-s': { type: 'string', default: '300' },
    profile: { type: 'string' },
  });
  return {
    count: a.int('count'),
    rounds: a.int('rounds'),
    concurrency: a.int('concurrency'),
    receiptDelayMs: a.int('receipt-delay-ms', 0),
    samples: a.int('samples'),
    workerConcurrency: a['worker-concurrency'] === undefined ? undefined : a.int('worker-concurrency'),
    aes: a.aes,
    fallback: !a['no-fallback'],
    roundTrips: a.int('round-trips', 0),
    emulatorSeconds: a.int('emulator-s', 0),
    timeoutMs: a.int('timeout-s') * 1000,
    profile: a.profile === undefined ? undefined : path.resolve(a.profile),
  };
}

/** Customer-service messages a user message allows (5 per 48 h). */
const CS_PER_WINDOW = 5;

/**
 * One run: accept `count` notifications for `template` round-robin over `users` (numbered from
 * `from`), then wait until all are terminal. Returns the end-to-end rate and the service process's
 * CPU time per notice (ms). `brief`: only the rates, the CPU and the statuses are printed.
 */
async function run(
  stack: ChildServiceStack,
  o: ReturnType<typeof options>,
  template: keyof typeof BENCH_TEMPLATES,
  final: string,
  users: number,
  { from = 0, brief = false } = {},
): Promise<{ rate: number; serviceCpuMs: number }> {
  const redisBefore = await stack.redis.commandCalls();
  const memoryBefore = brief ? 0 : await stack.redis.usedMemory();
  const redisCpuBefore = (await stack.redis.cpuMicros()) / 1e6;
  const serviceBefore = await usageOf(stack.serviceProcess);
  const cpuBefore = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const accepted = await acceptAll(stack, o.count, o.concurrency, (i) => notificationBody(template, stack.openid((from + i) % users), from + i));
  console.log(`  accept:      ${o.count} POST /v1/notifications in ${(accepted.ms / 1000).toFixed(2)} s = ${perSecond(o.count, accepted.ms)} requests/s${brief ? '' : `; latency ${describeLatencies(accepted.latencies)}`}`);
  await untilAllTerminal(stack, o.timeoutMs);
  const e2eMs = msSince(t0);
  const cpu = process.cpuUsage(cpuBefore);
  const serviceCpuMs = ((await usageOf(stack.serviceProcess)).cpuMicros - serviceBefore.cpuMicros) / 1000;
  const redisCpuMs = ((await stack.redis.cpuMicros()) / 1e6 - redisCpuBefore) * 1000;
  console.log(`  end-to-end:  all ${o.count} terminal ${(e2eMs / 1000).toFixed(2)} s after the first POST = ${perSecond(o.count, e2eMs)} notifications/s (${((e2eMs - accepted.ms) / 1000).toFixed(2)} s after the last accept)`);
  const redisAfter = await stack.redis.commandCalls();
  // Load-independent figures (the machine may be shared): what each notice cost in CPU.
  const perNotice = (ms: number) => (ms / o.count).toFixed(3);
  console.log(
    `  CPU per notification: ${perNotice(serviceCpuMs)} ms in the service's process, ${perNotice((cpu.user + cpu.system) / 1000)} ms in the bench's (client and emulator), ${perNotice(redisCpuMs)} ms in redis-server`,
  );
  if (!brief) {
    const sample = await sampleLatencies(stack, accepted.ids, o.samples, final);
    console.log(`  accept→${final} (${sample.latencies.length} sampled from the store${sample.missing ? `, ${sample.missing} never ${final}` : ''}; includes the wait in the backlog): ${describeLatencies(sample.latencies)}, max ${sample.latencies.at(-1)} ms`);
  }
  const statuses = await countStatuses(stack, accepted.ids);
  console.log(`  statuses of all ${o.count} (read from the store afterwards): ${JSON.stringify(statuses)}`);
  const result = { rate: perSecond(o.count, e2eMs), serviceCpuMs: serviceCpuMs / o.count };
  if (brief) return result;
  console.log(`  redis commands per notification (commands inside Lua scripts counted): ${describeDelta(deltaPer(redisBefore, redisAfter, o.count))}`);
  // read after the samples and statuses, which write nothing
  const memory = Math.round(((await stack.redis.usedMemory()) - memoryBefore) / o.count);
  console.log(
    `  redis memory per notification: ${memory} bytes more used_memory once all are ${final}, with the keys that live minutes still there ` +
      `(msgid links, push marks, signature memory); npm run bench:memory gives what a terminal notice keeps`,
  );
  console.log(`  ${describeCalls(stack)}`);
  return result;
}

/** The emulator alone, in this process: its rate and this process's CPU per send (ms). */
async function emulatorAlone(o: ReturnType<typeof options>): Promise<{ rate: number; cpuMs: number }> {
  const cpuBefore = process.cpuUsage();
  const alone = await measureEmulatorRate({ seconds: o.emulatorSeconds, concurrency: o.concurrency, receipts: true });
  const cpu = process.cpuUsage(cpuBefore);
  return { rate: alone.perSecond, cpuMs: (cpu.user + cpu.system) / 1000 / alone.sends };
}

/** Users 0…n-1 each send a message, which opens (or renews) their customer-service window. */
async function openWindows(stack: ChildServiceStack, users: number): Promise<void> {
  await runTimed(users, 32, async (i) => {
    await stack.emulator.control.userSendsText(stack.openid(i), '你好');
  });
}

/**
 * Round trips per notice (what wxreach sends to Redis; a script call counts once), counted exactly
 * with MONITOR over a pass of its own, as MONITOR slows Redis too much to run while timing.
 */
async function roundTrips(stack: ChildServiceStack, o: ReturnType<typeof options>, template: keyof typeof BENCH_TEMPLATES, users: number, offset: number): Promise<void> {
  const counting = await countRoundTrips(stack.redisUrls);
  await acceptAll(stack, o.roundTrips, o.concurrency, (i) => notificationBody(template, stack.openid((offset + i) % users), offset + i));
  await untilAllTerminal(stack, o.timeoutMs, 500); // polled seldom: its commands are counted too
  const count = await counting.stop();
  console.log(`  round trips per notification (${o.roundTrips} more, counted with MONITOR; the bench's polling of the schedule every 500 ms included): ${describeRoundTrips(count, o.roundTrips)}`);
}

async function main(): Promise<void> {
  const o = options();
  const fallbackUsers = Math.ceil(o.count / CS_PER_WINDOW);
  const stack = await startBenchStack({
    users: Math.max(1000, fallbackUsers),
    receiptDelayMs: o.receiptDelayMs,
    aes: o.aes,
    clientConcurrency: o.concurrency,
    config: (c) => (o.workerConcurrency ? { ...c, worker: { ...c.worker, concurrency: o.workerConcurrency } } : c),
    service: 'child',
    profileDir: o.profile,
  });
  const w = stack.config.worker;
  console.log(`wxreach flow bench: ${o.count} notifications per run, client concurrency ${o.concurrency}, receipt delay ${o.receiptDelayMs} ms, pushes ${o.aes ? 'safe mode (AES)' : 'plaintext'}`);
  console.log(`service: one instance in a child process of its own (client and emulator in this one), RedisStore on a throwaway redis-server, worker concurrency ${w.concurrency}, batch ${w.batchSize}, poll ${w.pollMs} ms, wechat.maxInFlight ${stack.config.wechat.maxInFlight}`);
  try {
    // as many as a round, at most 5,000: after 1,000 the first round of 5,000 still cost the service
    // 0.56–0.59 ms of CPU per notice, the next ones 0.42–0.47 (three runs): its code was not yet warm
    const warm = Math.min(5000, o.count);
    const t = process.hrtime.bigint();
    const warmIds = (await acceptAll(stack, warm, o.concurrency, (i) => notificationBody('order_paid', stack.openid(i % 1000), i))).ids;
    await untilAllTerminal(stack, o.timeoutMs);
    console.log(`warm-up: ${warmIds.length} notifications delivered in ${(msSince(t) / 1000).toFixed(2)} s (not counted)`);

    const alongside = o.emulatorSeconds > 0 ? `, each followed by the emulator alone (template send + receipt to a bare sink, ${o.concurrency} senders, ${o.emulatorSeconds} s), the ceiling of the template path` : '';
    console.log(`\n(a)+(b) template path → delivered, ${o.count} notifications over 1000 users, ${o.rounds} round(s)${alongside}`);
    if (o.profile) await startChildProfile(stack.serviceProcess);
    const templates: Array<{ rate: number; serviceCpuMs: number }> = [];
    const alone: Array<{ rate: number; cpuMs: number }> = [];
    for (let round = 0; round < o.rounds; round++) {
      if (o.rounds > 1) console.log(` round ${round + 1}:`);
      templates.push(await run(stack, o, 'order_paid', 'delivered', 1000, { from: round * o.count, brief: round > 0 }));
      if (o.emulatorSeconds === 0) continue;
      // the same machine, the moment after: the emulator alone is the ceiling of the template path
      const emulator = await emulatorAlone(o);
      console.log(`  the emulator alone: ${emulator.rate} sends/s at ${emulator.cpuMs.toFixed(3)} ms of CPU per send (sender, emulator and sink)`);
      alone.push(emulator);
    }
    if (o.profile) await stopChildProfile(stack.serviceProcess);
    if (alone.length > 0) {
      const [rates, aloneRates] = [templates.map((t) => t.rate), alone.map((a) => a.rate)];
      console.log(`  template path end to end = ${describeRatio(rates, aloneRates)} the emulator's own rate (medians ${median(rates)}/s and ${median(aloneRates)}/s)`);
      // Load-independent: each side's rate on a core of its own is the inverse of its CPU time per item.
      const [cpuMs, aloneCpuMs] = [templates.map((t) => t.serviceCpuMs), alone.map((a) => a.cpuMs)];
      console.log(
        `  by CPU time: the emulator alone ${median(aloneCpuMs).toFixed(3)} ms per send, the service ${median(cpuMs).toFixed(3)} ms per notice (medians): ` +
          `with a core each, the template path = ${describeRatio(aloneCpuMs, cpuMs)} the emulator's rate`,
      );
    }
    if (o.roundTrips > 0) await roundTrips(stack, o, 'order_paid', 1000, o.count * o.rounds);

    if (o.fallback) {
      console.log(`\n(c) fallback: template ${BENCH_TEMPLATES.order_shipped.id} deleted, ${fallbackUsers} users with an open customer-service window (${CS_PER_WINDOW} messages each) → fallback_sent`);
      stack.emulator.control.deleteTemplate(BENCH_TEMPLATES.order_shipped.id);
      const t0 = process.hrtime.bigint();
      await openWindows(stack, fallbackUsers);
      console.log(`  set-up: ${fallbackUsers} user messages pushed to /wechat in ${(msSince(t0) / 1000).toFixed(2)} s (not counted)`);
      await run(stack, o, 'order_shipped', 'fallback_sent', fallbackUsers);
      if (o.roundTrips > 0) {
        const users = Math.ceil(o.roundTrips / CS_PER_WINDOW);
        await openWindows(stack, users); // the run used up the windows' messages
        await roundTrips(stack, o, 'order_shipped', users, 0);
      }
    }
    console.log(`\n${describeLogLines(stack)}`);
    if (o.profile) console.log(describeProfile(o.profile, 20, "the service's CPU profile over the template run (b)"));
  } finally {
    await stack.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
