import { request, type Agent } from 'undici';
import { AddressGuard } from '../src/outbound/address-guard';
import { configEndpoint } from '../src/outbound/endpoints';
import { CONNECTIONS_PER_ENDPOINT, WebhookSender } from '../src/outbound/sender';
import { newSecret } from '../src/outbound/signature';
import { benchArgs } from './lib/args';
import { startCountingReceiver, type CountingReceiver } from './lib/counting-receiver';
import { keepAliveAgent, runTimed } from './lib/pool';
import { BENCH_API_KEY, type BenchStack, describeLogLines, notificationBody, startBenchStack } from './lib/stack';
import { deltaPer, describeDelta, describeLatencies, msSince, perSecond } from './lib/stats';

const HELP = `npm run bench:webhooks -- [options]   (each option also as an env variable, e.g. BENCH_COUNT)
  --count N          status changes (events) per run (default 10000)
  --endpoints LIST   endpoints per run, comma-separated (default 1,10)
  --concurrency C    status changes in flight (default 64)
  --timeout-s T      give up waiting for a run's deliveries after T seconds (default 300)`;

function options() {
  const a = benchArgs(HELP, {
    count: { type: 'string', default: '10000' },
    endpoints: { type: 'string', default: '1,10' },
    concurrency: { type: 'string', default: '64' },
    'timeout-s': { type: 'string', default: '300' },
  });
  const endpoints = a.endpoints.split(',').map(Number);
  if (endpoints.some((e) => !Number.isInteger(e) || e < 1 || e > 50)) throw new Error(`--endpoints must list integers from 1 to 50, got ${a.endpoints}`);
  return { count: a.int('count'), endpoints, concurrency: a.int('concurrency'), timeoutMs: a.int('timeout-s') * 1000 };
}

type Options = ReturnType<typeof options>;

const headers = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_API_KEY}` };

async function call(stack: BenchStack, agent: Agent, method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await request(`${stack.service.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), dispatcher: agent });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`${method} ${path} answered ${res.statusCode}: ${text.slice(0, 300)}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

/** `count` queued notices through the batch call (not timed: the work loop is paused, they wait). */
async function queued(stack: BenchStack, agent: Agent, run: number, count: number): Promise<Array<{ id: string; openid: string }>> {
  const out: Array<{ id: string; openid: string }> = [];
  for (let from = 0; from < count; from += 1000) {
    const items = Array.from({ length: Math.min(1000, count - from) }, (_, k) => notificationBody('order_paid', stack.openid((from + k) % 1000), run * 10_000_000 + from + k));
    const answer = (await call(stack, agent, 'POST', '/v1/notifications/batch', { notifications: items })) as { results: Array<{ status: number; id: string }> };
    answer.results.forEach((r, k) => {
      if (r.status !== 202) throw new Error(`batch item refused: ${JSON.stringify(r)}`);
      out.push({ id: r.id, openid: items[k].openid as string });
    });
  }
  return out;
}

/**
 * One run: `endpoints` endpoints registered through the API, then `count` notices end `failed`
 * by the service's own lifecycle (the move records the event in the same step, as every status
 * change does), `concurrency` at a time; the receiver counts every delivery to every endpoint.
 * Returns the bodies the first endpoint got (the bare loop sends them again).
 */
async function run(stack: BenchStack, receiver: CountingReceiver, agent: Agent, o: Options, n: number, endpoints: number): Promise<{ bodies: string[]; perSecond: number }> {
  const notices = await queued(stack, agent, n, o.count);
  const paths = Array.from({ length: endpoints }, (_, k) => `/run${n}/e${k}`);
  const ids: string[] = [];
  for (const p of paths) ids.push((await call(stack, agent, 'POST', '/v1/webhook-endpoints', { url: `${receiver.url}${p}` })).id as string);
  // every instance reads the endpoints again within a second
  await new Promise((r) => setTimeout(r, 1100));
  receiver.reset([paths[0]]);
  const lifecycle = stack.service.account().delivery.lifecycle;
  const expected = o.count * endpoints;
  const commands = await stack.redis.commandCalls();
  const t0 = Date.now();
  const started = process.hrtime.bigint();
  await runTimed(o.count, o.concurrency, async (i) => {
    const moved = await lifecycle.move('fail', notices[i], { detail: 'bench: ended to make a webhook event', set: { reason: 'bench' }, dueAt: null });
    if (!moved) throw new Error(`notice ${notices[i].id} did not move`);
  });
  const movesMs = msSince(started);
  await receiver.until(expected, o.timeoutMs);
  const ms = receiver.lastAt - t0;
  const perDelivery = describeDelta(deltaPer(commands, await stack.redis.commandCalls(), expected));
  console.log(`  status changes: ${o.count} in ${(movesMs / 1000).toFixed(2)} s = ${perSecond(o.count, movesMs)} events/s (${o.concurrency} in flight)`);
  console.log(`  deliveries:     ${expected} accepted ${(ms / 1000).toFixed(2)} s after the first change = ${perSecond(expected, ms)} deliveries/s`);
  console.log(`  event → receiver (the wait in the backlog included when events come faster than they go out): ${describeLatencies(receiver.lags, [50, 99])}, max ${receiver.lags.reduce((a, b) => Math.max(a, b), 0)} ms`);
  console.log(`  redis commands per delivery (moves included, inside Lua counted): ${perDelivery}`);
  const bodies = receiver.bodiesOf(paths[0]);
  for (const id of ids) await call(stack, agent, 'DELETE', `/v1/webhook-endpoints/${id}`);
  return { bodies, perSecond: (expected * 1000) / ms };
}

/**
 * The bare limit beside a run: the same bodies POSTed to the same receiver by the same sender
 * (undici, one pool per endpoint, the same signing), CONNECTIONS_PER_ENDPOINT at a time per
 * endpoint as wxreach attempts them, in a plain loop: no Redis, no outbox, no schedule.
 */
async function bare(receiver: CountingReceiver, bodies: string[], n: number, endpoints: number): Promise<number> {
  const sender = new WebhookSender(new AddressGuard(true), 'bench-bare/1');
  const targets = Array.from({ length: endpoints }, (_, k) => configEndpoint({ url: `${receiver.url}/bare${n}/e${k}`, secret: newSecret() }));
  receiver.reset();
  const latencies: number[][] = [];
  const t0 = process.hrtime.bigint();
  await Promise.all(
    targets.map(async (endpoint, k) => {
      latencies[k] = await runTimed(bodies.length, CONNECTIONS_PER_ENDPOINT, async (i) => {
        const result = await sender.send(endpoint, `evt_bare_${n}_${k}_${i}`, bodies[i]);
        if (result.error !== undefined) throw new Error(`bare POST failed: ${result.error}`);
      });
    }),
  );
  const ms = msSince(t0);
  await sender.close();
  const all = latencies.flat();
  console.log(
    `  bare limit:     ${all.length} signed POSTs in a plain loop (${CONNECTIONS_PER_ENDPOINT} in flight per endpoint) in ${(ms / 1000).toFixed(2)} s = ${perSecond(all.length, ms)} POSTs/s; ` +
      `each ${describeLatencies(all, [50, 99])}`,
  );
  return (all.length * 1000) / ms;
}

async function main(): Promise<void> {
  const o = options();
  const stack = await startBenchStack({
    users: 1000,
    receiptDelayMs: 5,
    clientConcurrency: 4,
    config: (c) => ({ ...c, webhooks: { allowPrivate: true, endpoints: [] } }),
  });
  const receiver = await startCountingReceiver();
  const agent = keepAliveAgent(4);
  try {
    await stack.service.loop.stop();
    console.log(`wxreach webhooks bench: ${o.count} status changes per run, to ${o.endpoints.join(' and then ')} endpoint(s) of a local receiver (node:http, 204)`);
    console.log(
      `one in-process service on ${stack.redisDescription} (work loop paused: the notices are queued by the batch call, then ended by the lifecycle), ` +
        `webhook poll ${stack.config.worker.pollMs} ms, ${CONNECTIONS_PER_ENDPOINT} attempts in flight per endpoint; receiver, bench and wxreach share this Node process`,
    );
    for (const [n, endpoints] of o.endpoints.entries()) {
      console.log(`\n(${String.fromCharCode(97 + n)}) ${endpoints} endpoint(s): ${o.count * endpoints} deliveries`);
      const measured = await run(stack, receiver, agent, o, n + 1, endpoints);
      const limit = await bare(receiver, measured.bodies, n + 1, endpoints);
      console.log(`  wxreach reaches ${((measured.perSecond / limit) * 100).toFixed(0)} % of the bare limit`);
    }
    console.log(`\n${describeLogLines(stack)}`);
  } finally {
    await agent.close();
    await receiver.close();
    await stack.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
