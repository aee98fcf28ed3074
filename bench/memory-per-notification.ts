import { benchArgs } from './lib/args';
import { acceptAll, countStatuses, untilAllTerminal } from './lib/flow';
import { perSecond } from './lib/stats';
import { describeCalls, notificationBody, startBenchStack, type BenchStack } from './lib/stack';

const HELP = `npm run bench:memory -- [options]   (each option also as an env variable, e.g. BENCH_COUNT)
  --count N              notifications (default 20000)
  --concurrency C        client requests in flight (default 64)
  --receipt-delay-ms D   emulator's delay before each receipt (default 5)
  --key-samples K        keys per kind given to MEMORY USAGE for the breakdown (default 200)
Run with node --expose-gc (npm run bench:memory does) for the Node heap figures.`;

/**
 * What a notification costs in memory. Redis: INFO used_memory and DBSIZE before, after accepting
 * N notifications (work loop paused, so they all sit `queued`) and after all are `delivered`
 * (receipt links and push dedupe keys included), plus a breakdown by key kind with each kind's
 * encoding. Node: heapUsed and RSS after a forced GC at the same points (the emulator lives in
 * this process too: after delivery its inbox and client_msg_id map are part of the figure, so a
 * row resets the emulator and measures again). The last row is what a terminal notice keeps for
 * its retention: measured again once the keys that live minutes (the plaintext signature memory,
 * a receipt's push mark and msgid link) are gone, as they would be by themselves (the warm-up's
 * are dropped before the baseline).
 */
async function main(): Promise<void> {
  const a = benchArgs(HELP, {
    count: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '64' },
    'receipt-delay-ms': { type: 'string', default: '5' },
    'key-samples': { type: 'string', default: '200' },
  });
  const count = a.int('count');
  const concurrency = a.int('concurrency');
  const keySamples = a.int('key-samples');
  const gc = (globalThis as { gc?: () => void }).gc;
  const stack = await startBenchStack({ users: 1000, receiptDelayMs: a.int('receipt-delay-ms', 0), clientConcurrency: concurrency });
  console.log(`wxreach memory bench: ${count} notifications of ~${JSON.stringify(body(stack, 0)).length} bytes of JSON each, one in-process service on a throwaway redis-server`);
  if (!gc) console.log('(no global.gc: run with node --expose-gc for steadier Node figures)');
  try {
    const warm = await acceptAll(stack, 500, concurrency, (i) => body(stack, i));
    await untilAllTerminal(stack, 60_000);
    await stack.emulator.control.whenIdle();
    await dropShortLived(stack); // the warm-up's, so that the last row compares like with like
    const base = await measure(stack, gc);

    await stack.service.loop.stop();
    const accepted = await acceptAll(stack, count, concurrency, (i) => body(stack, warm.ids.length + i));
    const queued = await measure(stack, gc);

    stack.service.loop.start();
    await untilAllTerminal(stack, 600_000);
    await stack.emulator.control.whenIdle();
    const delivered = await measure(stack, gc);
    const calls = describeCalls(stack);
    stack.emulator.control.reset(); // drops the emulator's inbox and client_msg_id map: what is left is wxreach's
    const withoutEmulator = await measure(stack, gc);
    const rows = await breakdown(stack, keySamples);
    const lapsed = await dropShortLived(stack);
    const kept = await measure(stack, gc);

    const statuses = await countStatuses(stack, accepted.ids);
    console.log(`accepted ${count} with the work loop paused in ${(accepted.ms / 1000).toFixed(2)} s (${perSecond(count, accepted.ms)} requests/s); final statuses ${JSON.stringify(statuses)}`);
    console.log(`\n${'stage'.padEnd(28)}${'redis used_memory'.padStart(20)}${'bytes/notif.'.padStart(14)}${'keys/notif.'.padStart(13)}${'node heap B/notif.'.padStart(20)}${'node RSS B/notif.'.padStart(19)}`);
    for (const [name, m] of [
      ['baseline (after warm-up)', base],
      ['accepted (all queued)', queued],
      ['delivered (all terminal)', delivered],
      ['  same, emulator state reset', withoutEmulator],
      ['  kept for the retention', kept],
    ] as const) {
      const per = (x: number, y: number) => (m === base ? '' : ((x - y) / count).toFixed(0));
      console.log(
        `${name.padEnd(28)}${m.redis.toLocaleString('en').padStart(20)}${per(m.redis, base.redis).padStart(14)}${(m === base ? '' : ((m.keys - base.keys) / count).toFixed(2)).padStart(13)}` +
          `${per(m.heap, base.heap).padStart(20)}${per(m.rss, base.rss).padStart(19)}`,
      );
    }
    const all = count + warm.ids.length;
    console.log(`\nredis keys by kind after delivery of all ${all} (warm-up included; MEMORY USAGE of up to ${keySamples} keys per kind, scaled):`);
    for (const row of rows) {
      console.log(
        `  ${row.kind.padEnd(10)} ${String(row.keys).padStart(8)} keys × ${row.avg.toFixed(0).padStart(5)} B = ${(row.total / all).toFixed(0).padStart(5)} B/notification  (ttl of one: ${row.ttl}; ${row.encoding})`,
      );
    }
    console.log(`\nkept for the retention: ${lapsed} keys that live at most ${SHORT_LIVED_SECONDS / 60} minutes were dropped before the last row`);
    console.log(`\n${calls}`);
  } finally {
    await stack.close();
  }
}

const body = (stack: BenchStack, i: number) => notificationBody('order_paid', stack.openid(i % 1000), i);

interface Measure {
  redis: number;
  keys: number;
  heap: number;
  rss: number;
}

async function measure(stack: BenchStack, gc: (() => void) | undefined): Promise<Measure> {
  for (let i = 0; i < 3 && gc; i++) gc();
  const { heapUsed, rss } = process.memoryUsage();
  return { redis: await stack.redis.usedMemory(), keys: await stack.redis.clients[0].dbSize(), heap: heapUsed, rss };
}

/** Keys this short-lived are gone long before a notice's retention ends. */
const SHORT_LIVED_SECONDS = 3600;

/** Deletes the keys that expire within SHORT_LIVED_SECONDS (what their TTL would do); how many. */
async function dropShortLived(stack: BenchStack): Promise<number> {
  const [client] = stack.redis.clients;
  let dropped = 0;
  for await (const keys of client.scanIterator({ MATCH: '*', COUNT: 1000 })) {
    const ttls = await Promise.all(keys.map((key) => client.ttl(key)));
    const short = keys.filter((_, i) => ttls[i] >= 0 && ttls[i] <= SHORT_LIVED_SECONDS);
    if (short.length > 0) dropped += await client.del(short);
  }
  return dropped;
}

/** Keys grouped by kind (`{prefix}:<kind>:…`), with MEMORY USAGE of a sample of each, a typical TTL and the encodings. */
async function breakdown(stack: BenchStack, samples: number) {
  const [client] = stack.redis.clients; // the bench runs on one redis-server
  const kinds = new Map<string, string[]>();
  const counts = new Map<string, number>();
  for await (const keys of client.scanIterator({ MATCH: '*', COUNT: 1000 })) {
    for (const key of keys) {
      const kind = /^\{[^}]*\}:([^:]+)/.exec(key)?.[1] ?? key;
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
      const list = kinds.get(kind) ?? [];
      if (list.length < samples) list.push(key);
      kinds.set(kind, list);
    }
  }
  const rows = [];
  for (const [kind, keys] of kinds) {
    const sizes = await Promise.all(keys.map((k) => client.memoryUsage(k, { SAMPLES: 0 })));
    const avg = sizes.reduce<number>((s, v) => s + (v ?? 0), 0) / keys.length;
    const ttlSeconds = await client.ttl(keys[0]);
    const ttl = ttlSeconds < 0 ? 'none' : ttlSeconds >= 86_400 ? `${(ttlSeconds / 86_400).toFixed(0)} d` : `${ttlSeconds} s`;
    const encodings = new Map<string, number>();
    for (const encoding of await Promise.all(keys.map((k) => client.objectEncoding(k)))) encodings.set(String(encoding), (encodings.get(String(encoding)) ?? 0) + 1);
    const encoding = [...encodings].map(([name, n]) => (encodings.size === 1 ? name : `${name} ×${n}`)).join(', ');
    const n = counts.get(kind) ?? 0;
    rows.push({ kind, keys: n, avg, total: avg * n, ttl, encoding });
  }
  return rows.sort((x, y) => y.total - x.total);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
