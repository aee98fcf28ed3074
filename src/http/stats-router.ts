import { Router } from 'express';
import type { AccountState } from '../delivery/account-state';
import { accountStats, callbackStats, StatsRangeError, type StatsRange } from '../delivery/stats';
import type { CounterReader } from '../store/counter-buckets';
import { keyAccounts } from './auth';
import { HttpError } from './errors';
import { fieldErrors } from './notification-schema';
import { callbackStatsQuery, statsQuery } from './schemas/stats';

const DAY_MS = 86_400_000;

export interface StatsRouterDeps {
  accountState(appid: string): Promise<AccountState>;
  /** Every account that may act now (the default of a key that may use every account). */
  activeAppids(): Promise<string[]>;
  /** An account's counters (a view of the store: no runtime is built for it). */
  accountCounters(appid: string): CounterReader;
  /** The deployment's counters: the answers to WeChat's pushes. */
  deploymentCounters: CounterReader;
  /** Hands this instance's callback counts to the store, so a read includes them at once. */
  flushCallbacks(): Promise<void>;
  now?: () => number;
}


/** The range of a parsed query: `to` defaults to now, `from` to a day before `to`. */
function rangeOf(q: { from?: number; to?: number; bucket?: StatsRange['bucket'] }, now: number): StatsRange {
  const to = q.to ?? now;
  return { from: q.from ?? to - DAY_MS, to, bucket: q.bucket };
}

/** A range the statistics cannot answer: 400 naming the parameter. */
function badRange(err: unknown): never {
  if (err instanceof StatsRangeError) throw new HttpError(400, 'invalid_request', err.message, [{ field: err.field, message: err.message }]);
  throw err;
}

/**
 * GET /v1/stats (the notices' counters per account, template and time bucket) and GET
 * /v1/stats/callbacks (how fast wxreach answered WeChat), behind the API's key check: a key
 * limited to accounts counts only those.
 */
export function statsRouter(deps: StatsRouterDeps): Router {
  const now = deps.now ?? Date.now;
  const router = Router();

  router.get('/stats', async (req, res) => {
    const parsed = statsQuery.safeParse(req.query);
    if (!parsed.success) throw new HttpError(400, 'invalid_request', 'the query does not match', fieldErrors(parsed.error));
    const { account, template } = parsed.data;
    const range = rangeOf(parsed.data, now());
    const limited = keyAccounts(res);
    let appids: readonly string[];
    if (account === undefined) appids = limited ?? (await deps.activeAppids());
    else {
      if (limited !== null && !limited.includes(account)) throw new HttpError(403, 'forbidden', `this API key may not use account ${account}`);
      if ((await deps.accountState(account)) === 'unknown') throw new HttpError(404, 'not_found', `no account ${account}`);
      appids = [account];
    }
    const stats = await accountStats(
      appids.map((a) => ({ account: a, counters: deps.accountCounters(a) })),
      range,
      template,
    ).catch(badRange);
    res.json({
      from: new Date(range.from).toISOString(),
      to: new Date(range.to).toISOString(),
      bucket: stats.bucket,
      accounts: appids,
      totals: stats.totals,
      series: stats.series.map((s) => ({ start: new Date(s.start).toISOString(), counts: s.counts })),
      templates: stats.templates,
    });
  });

  router.get('/stats/callbacks', async (req, res) => {
    const parsed = callbackStatsQuery.safeParse(req.query);
    if (!parsed.success) throw new HttpError(400, 'invalid_request', 'the query does not match', fieldErrors(parsed.error));
    const range = rangeOf(parsed.data, now());
    await deps.flushCallbacks();
    const stats = await callbackStats(deps.deploymentCounters, range).catch(badRange);
    res.json({
      from: new Date(range.from).toISOString(),
      to: new Date(range.to).toISOString(),
      bucket: stats.bucket,
      answers: stats.answers,
      byKind: stats.byKind,
      series: stats.series.map((s) => ({ ...s, start: new Date(s.start).toISOString() })),
    });
  });

  return router;
}
