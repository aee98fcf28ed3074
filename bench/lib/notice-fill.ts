import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { renderFallback } from '../../src/delivery/fallback-text';
import { MOVES, moveRecording, recordMove, type MoveChange, type MoveName, type Status } from '../../src/delivery/lifecycle';
import { searchTerms } from '../../src/delivery/search-terms';
import { prng } from '../../src/dev/prng';
import { plainValues, toFields, type NotificationRequest } from '../../src/delivery/notification';
import { decideCustomFailure, decideTemplateFailure } from '../../src/delivery/send-policy';
import { clientName } from '../../src/http/auth';
import { CUSTOM_SEND_PATH, TEMPLATE_SEND_PATH } from '../../src/wechat/api-client';
import { WechatApiError } from '../../src/wechat/api-errors';
import { ERRCODE } from '../../src/wechat/errcodes';
import { receiptOutcome } from '../../src/wechat/push';
import { runTimed } from './pool';
import type { Config } from '../../src/config/schema';
import type { Store } from '../../src/store/store';
import { BENCH_API_KEY, BENCH_TEMPLATES, notificationBody, type BenchStack } from './stack';

/**
 * Fills the stack's store with notices that have already run their course, written through the
 * store's own API as the service writes them: the creation (record, history, search terms, the
 * `accepted` tally), then each move of the lifecycle built by `recordMove` (fields, history line
 * with the WeChat call, webhook event, counters), at the times they would have happened. Nothing
 * calls WeChat and nothing is left due but the parked notices' ends, so the work loop stays idle.
 */

type Template = keyof typeof BENCH_TEMPLATES;

/** What a step knows of its notice. */
interface Notice {
  templateId: string;
  msgid: string;
  text: string;
  parkedUntil: number;
}

/** One move of a path, `afterMs` after the previous step. */
interface Step {
  move: MoveName;
  to: Status;
  afterMs: number;
  change: (n: Notice, at: number) => MoveChange;
}

/** config/default.json's receipt.timeoutSeconds. */
const RECEIPT_TIMEOUT_S = 600;
const call = (path: string, errcode: number, ms: number) => ({ path, errcode, ms });
const refusal = (path: string, errcode: number, errmsg: string) => new WechatApiError(errcode, errmsg, path);

/** The template leg's first step: WeChat took the template (as TemplateLeg records it). */
const sent: Step = {
  move: 'sent',
  to: 'awaiting_receipt',
  afterMs: 150,
  change: (n, at) => ({
    detail: `template ${n.templateId} accepted, msgid ${n.msgid}`,
    set: { msgid: n.msgid, templateId: n.templateId, channel: 'template', receiptDueAt: String(at + RECEIPT_TIMEOUT_S * 1000) },
    call: call(TEMPLATE_SEND_PATH, 0, 80),
  }),
};

/** A receipt that is not success: on to the customer-service text (as the receipt commit records it). */
const failedReceipt = (status: string): Step => ({
  move: 'templateFailed',
  to: 'fallback_pending',
  afterMs: 3000,
  change: (n) => ({
    detail: `template path failed: receipt for msgid ${n.msgid}: ${status}`,
    set: { msgid: n.msgid, channel: 'template', reason: `receipt: ${status}` },
    receipt: receiptOutcome(status),
  }),
});

/** The customer-service leg marks its one call, then records what WeChat answered. */
const callStarted: Step = {
  move: 'callStarted',
  to: 'fallback_pending',
  afterMs: 50,
  change: (n, at) => ({ detail: null, set: { csCallAt: String(at), text: n.text, csAttempts: '1' }, expect: { csCallAt: '' } }),
};
const fallbackSent: Step = {
  move: 'fallbackSent',
  to: 'fallback_sent',
  afterMs: 120,
  change: () => ({ detail: 'customer-service text accepted', set: { channel: 'customer_service', csCallAt: '' }, dueAt: null, call: call(CUSTOM_SEND_PATH, 0, 90) }),
};

const blocked = refusal(CUSTOM_SEND_PATH, ERRCODE.USER_BLOCKED_MESSAGES, 'user refuse to accept the msg');
const notFollower = refusal(TEMPLATE_SEND_PATH, ERRCODE.REQUIRE_SUBSCRIBE, 'require subscribe');
const refusedTemplate = refusal(TEMPLATE_SEND_PATH, ERRCODE.USER_REFUSED_TEMPLATE, 'user refuse to accept the msg');

/** The outcomes of the fill: share of the notices, and the moves after the creation. */
export const OUTCOMES: ReadonlyArray<{ name: string; share: number; steps: readonly Step[] }> = [
  {
    name: 'delivered (receipt success)',
    share: 0.82,
    steps: [
      sent,
      {
        move: 'delivered',
        to: 'delivered',
        afterMs: 3000,
        change: (n) => ({ detail: `receipt for msgid ${n.msgid}: success`, set: { msgid: n.msgid, channel: 'template' }, dueAt: null, receipt: 'success' }),
      },
    ],
  },
  { name: 'fallback_sent after a user-block receipt', share: 0.05, steps: [sent, failedReceipt('failed:user block'), callStarted, fallbackSent] },
  {
    name: 'fallback_sent after no receipt in time',
    share: 0.03,
    steps: [
      sent,
      {
        move: 'templateFailed',
        to: 'fallback_pending',
        afterMs: RECEIPT_TIMEOUT_S * 1000,
        change: () => ({ detail: `template path failed: no receipt within ${RECEIPT_TIMEOUT_S} s`, set: { reason: 'no_receipt' }, receipt: 'none' }),
      },
      callStarted,
      fallbackSent,
    ],
  },
  {
    name: 'fallback_sent after the user refused the template (43101)',
    share: 0.02,
    steps: [
      {
        move: 'templateFailed',
        to: 'fallback_pending',
        afterMs: 90,
        change: (n) => ({ detail: `template path failed: ${decideTemplateFailure(refusedTemplate).reason}`, set: { templateId: n.templateId }, call: call(TEMPLATE_SEND_PATH, ERRCODE.USER_REFUSED_TEMPLATE, 85) }),
      },
      callStarted,
      fallbackSent,
    ],
  },
  {
    name: 'parked (system-failed receipt, window known closed)',
    share: 0.04,
    steps: [
      sent,
      failedReceipt('failed: system failed'),
      {
        move: 'park',
        to: 'awaiting_interaction',
        afterMs: 20,
        change: (n) => ({
          detail: 'customer-service window closed (known), no call; kept until the user interacts',
          set: { text: n.text, parkedUntil: String(n.parkedUntil) },
          dueAt: n.parkedUntil,
        }),
      },
    ],
  },
  {
    name: 'failed: not a follower (43004)',
    share: 0.02,
    steps: [
      {
        move: 'fail',
        to: 'failed',
        afterMs: 90,
        change: () => ({ detail: `template send: ${notFollower.message}`, set: { reason: decideTemplateFailure(notFollower).reason }, dueAt: null, call: call(TEMPLATE_SEND_PATH, ERRCODE.REQUIRE_SUBSCRIBE, 85) }),
      },
    ],
  },
  {
    name: 'failed: user blocked messages (48002)',
    share: 0.02,
    steps: [
      sent,
      failedReceipt('failed:user block'),
      callStarted,
      {
        move: 'fail',
        to: 'failed',
        afterMs: 100,
        change: () => ({ detail: `customer-service send: ${blocked.message}`, set: { reason: decideCustomFailure(blocked).reason, csCallAt: '' }, dueAt: null, call: call(CUSTOM_SEND_PATH, ERRCODE.USER_BLOCKED_MESSAGES, 95) }),
      },
    ],
  },
];

/** The service settings the fill writes with (a part of its config, sent to the fill's threads as is). */
export type FillSettings = Pick<Config, 'retentionDays' | 'stats' | 'window' | 'searchFields'>;

/** What a thread of the fill writes: notices i ≡ `thread` (mod `threads`) of [0, count). */
export interface FillSlice {
  /** One Redis the stack's store uses (`redis://…`). */
  redisUrl: string;
  appids: readonly string[];
  /** The openids, `openid(i)` of the stack; a few are busy, most are quiet (the i-th is picked with a probability falling as 1/√i). */
  users: readonly string[];
  settings: FillSettings;
  count: number;
  /** When the first notice was created (ms); the others follow evenly over `spanMs`. */
  start: number;
  spanMs: number;
  /** Notices being written at once in this thread. */
  concurrency: number;
  thread: number;
  threads: number;
}

/** What a slice wrote, in a form a thread can post. */
export interface SliceResult {
  outcomes: Record<string, number>;
  /** [account, [openid, notices][]][] */
  perUser: Array<[string, Array<[string, number]>]>;
  /** [account, outcome name, id]: the first of each per account. */
  samples: Array<[string, string, string]>;
  orderNo: { account: string; value: string } | null;
  latencies: number[];
}

/** Writes a slice through `store` (the store's own API); `progress(n)` after every 1000 notices. */
export async function fillSlice(store: Pick<Store, 'forAccount'>, s: FillSlice, progress: (n: number) => void): Promise<SliceResult> {
  const ttlSeconds = s.settings.retentionDays * 86_400;
  const statsKeepSeconds = s.settings.stats.retentionDays * 86_400;
  const parkMs = s.settings.window.parkSeconds * 1000;
  const client = clientName(BENCH_API_KEY);
  const stores = s.appids.map((appid) => store.forAccount(appid));
  const cumulative = OUTCOMES.map((_, k) => OUTCOMES.slice(0, k + 1).reduce((sum, x) => sum + x.share, 0));
  const outcomes: Record<string, number> = Object.fromEntries(OUTCOMES.map((x) => [x.name, 0]));
  const perUser = new Map(s.appids.map((a) => [a, new Map<string, number>()]));
  const samples = new Map<string, [string, string, string]>();
  const middle = Math.floor(s.count / 2);
  let orderNo: SliceResult['orderNo'] = null;
  let done = 0;

  const mine = Math.ceil((s.count - s.thread) / s.threads);
  const latencies = await runTimed(mine, s.concurrency, async (j) => {
    const i = s.thread + j * s.threads;
    const k = i % stores.length;
    const appid = s.appids[k];
    // seeded by the index: notice `i` draws the same numbers in any thread
    const next = prng(i);
    const openid = s.users[Math.floor(s.users.length * next() ** 2)];
    const template: Template = next() < 0.6 ? 'order_paid' : 'order_shipped';
    const u = next();
    const outcome = OUTCOMES[cumulative.findIndex((c) => u < c)] ?? OUTCOMES[0];
    const body = notificationBody(template, openid, i) as { data: Record<string, string>; url: string };
    const request: NotificationRequest = { openid, template, data: Object.fromEntries(Object.entries(body.data).map(([f, value]) => [f, { value }])), url: body.url };
    const createdAt = s.start + Math.floor(((i + 0.5) * s.spanMs) / s.count);
    const id = stores[k].newId(openid);
    const notice: Notice = {
      templateId: BENCH_TEMPLATES[template].id,
      msgid: String(3_100_000_000_000_000 + i),
      text: renderFallback({ pattern: BENCH_TEMPLATES[template].fallback }, plainValues(request.data), request.url),
      parkedUntil: 0,
    };

    await stores[k].create(
      id,
      toFields({ ...request, id, client, status: 'queued', attempts: 0, csAttempts: 0, createdAt }),
      { at: new Date(createdAt).toISOString(), status: 'queued', detail: 'accepted' },
      {
        ttlSeconds,
        index: { terms: searchTerms(request, s.settings.searchFields), at: createdAt },
        tally: { at: createdAt, subject: template, counters: ['accepted'], keepSeconds: statsKeepSeconds },
      },
    );
    let status: Status = 'queued';
    let at = createdAt;
    for (const step of outcome.steps) {
      at += step.afterMs;
      if (step.move === 'park') notice.parkedUntil = at + parkMs;
      const rule: { from: readonly Status[] } = MOVES[step.move];
      if (!rule.from.includes(status)) throw new Error(`the fill's path "${outcome.name}" moves ${step.move} from ${status}, which the lifecycle forbids`);
      const move = recordMove(step.move, { template }, step.change(notice, at), { from: [status], to: step.to, at }, moveRecording(statsKeepSeconds));
      const moved =
        step.move === 'park'
          ? await stores[k].park(id, move, { owner: openid, score: createdAt, ttlSeconds, until: notice.parkedUntil })
          : await stores[k].move(id, move);
      if (!moved) throw new Error(`move ${step.move} of ${id} from ${status} did not happen`);
      status = step.to;
    }

    outcomes[outcome.name]++;
    if (i === middle) orderNo = { account: appid, value: body.data.order_no };
    const users = perUser.get(appid) as Map<string, number>;
    users.set(openid, (users.get(openid) ?? 0) + 1);
    if (!samples.has(`${appid} ${outcome.name}`)) samples.set(`${appid} ${outcome.name}`, [appid, outcome.name, id]);
    if (++done % 1000 === 0) progress(1000);
  });
  progress(done % 1000);
  return { outcomes, perUser: [...perUser].map(([a, m]) => [a, [...m]]), samples: [...samples.values()], orderNo, latencies };
}

export interface FillOptions {
  count: number;
  /** Openids per account. */
  users: number;
  /** Notices spread evenly over this many ms, the last moves a quarter of an hour ago. */
  spanMs: number;
  /** Threads writing (each with its own connection to Redis). */
  threads: number;
  /** Notices being written at once in each thread. */
  concurrency: number;
  /** Called after each tenth of the fill, with the notices written. */
  progress?: (done: number) => void;
}

export interface FillResult {
  /** Notices per outcome name. */
  outcomes: Record<string, number>;
  /** Notices per account and openid. */
  perUser: Map<string, Map<string, number>>;
  /** Per account, one notice id of each outcome. */
  sampleIds: Map<string, Record<string, string>>;
  /** An order number that was filled, with its account. */
  orderNo: { account: string; value: string };
  /** Latency of the store calls of one notice (ms, unsorted). */
  latencies: number[];
}

/** Every move happened at least this long ago (the slowest path takes 10 minutes). */
const ENDS_BEFORE_MS = 15 * 60_000;

/**
 * Fills the stack's store (one redis-server) from `threads` worker threads (the writing is Node's
 * work more than Redis's: one thread would take a quarter of an hour for a million notices).
 */
export async function fillNotices(stack: BenchStack, o: FillOptions): Promise<FillResult> {
  if (stack.redisUrls.length !== 1) throw new Error('the fill writes to one redis-server');
  const base = {
    redisUrl: stack.redisUrls[0],
    appids: stack.appids,
    users: Array.from({ length: o.users }, (_, i) => stack.openid(i)),
    settings: { retentionDays: stack.config.retentionDays, stats: stack.config.stats, window: stack.config.window, searchFields: stack.config.searchFields },
    count: o.count,
    start: Date.now() - ENDS_BEFORE_MS - o.spanMs,
    spanMs: o.spanMs,
    concurrency: o.concurrency,
    threads: o.threads,
  };
  const tenth = Math.max(1, Math.floor(o.count / 10));
  let done = 0;
  const slices = await Promise.all(
    Array.from({ length: o.threads }, (_, thread) => {
      // a larger young generation: the fill makes many short-lived promises and arrays
      const worker = new Worker(path.join(__dirname, 'notice-fill-worker.js'), { workerData: { ...base, thread } satisfies FillSlice, resourceLimits: { maxYoungGenerationSizeMb: 64 } });
      return new Promise<SliceResult>((resolve, reject) => {
        worker.on('message', (m: { progress: number } | { result: SliceResult }) => {
          if ('result' in m) return resolve(m.result);
          const before = Math.floor(done / tenth);
          done += m.progress;
          if (Math.floor(done / tenth) > before) o.progress?.(done);
        });
        worker.on('error', reject);
        worker.on('exit', (code) => reject(new Error(`fill thread ${thread} ended with code ${code} before its result`)));
      });
    }),
  );

  const outcomes: Record<string, number> = Object.fromEntries(OUTCOMES.map((x) => [x.name, 0]));
  const perUser = new Map(stack.appids.map((a) => [a, new Map<string, number>()]));
  const sampleIds = new Map(stack.appids.map((a) => [a, {} as Record<string, string>]));
  for (const slice of slices) {
    for (const [name, n] of Object.entries(slice.outcomes)) outcomes[name] += n;
    for (const [account, users] of slice.perUser) {
      const mine = perUser.get(account) as Map<string, number>;
      for (const [openid, n] of users) mine.set(openid, (mine.get(openid) ?? 0) + n);
    }
    for (const [account, name, id] of slice.samples) (sampleIds.get(account) as Record<string, string>)[name] ??= id;
  }
  const orderNo = slices.find((slice) => slice.orderNo !== null)?.orderNo;
  if (!orderNo) throw new Error('no thread wrote the middle notice');
  return { outcomes, perUser, sampleIds, orderNo, latencies: slices.flatMap((slice) => slice.latencies) };
}
