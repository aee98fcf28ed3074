import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * wrk (Debian's `wrk` package, a C HTTP load generator) as a fixed-rate sender: the requests of a
 * file, each sent once and in order, at random moments. The bench's own Node client stalls now and
 * then (its young-generation collections took 1–4 ms, its event loop up to 16 ms late), and each
 * stall shows in every answer it was timing: at 2,000 requests/s a bare node:http responder's p99
 * was 4.2–6.8 ms through it, against 0.8–2.0 ms through wrk. wrk times each request from when it
 * wrote it to when it read the whole answer.
 *
 * Pacing: before each request (its first too) a connection waits a whole number of milliseconds
 * drawn uniformly from [0, spread], so requests arrive at random moments, as pushes from
 * many WeChat servers would, and not in step (a fixed wait keeps every connection in step: bursts
 * of all of them at once). The price of pacing per connection: a connection whose answer is late
 * sends nothing meanwhile, so a server's stall is timed on fewer requests than a sender with a
 * schedule of its own would have sent into it. With 64 connections at 2,000/s, each sends about
 * every 32 ms; in a 10 ms stall the two or three that are waiting hold back one request each, of
 * about twenty planned.
 */

/** A prepared request: its path (with the query) and its body, POSTed as text/xml. */
export interface WrkRequest {
  path: string;
  body: string;
}

export interface WrkRun {
  /** Answers read. */
  requests: number;
  seconds: number;
  /** Percentiles and the slowest answer, in ms. */
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** What went wrong, '' when every answer was 200 `success`. */
  failures: string;
}

/** The Lua script wrk runs (one thread): see the module's comment. Its arguments: file, first, count, spread. */
const SCRIPT = String.raw`
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  local first, count = tonumber(args[2]), tonumber(args[3])
  spread = tonumber(args[4])
  local f = assert(io.open(args[1], "rb"))
  local data = f:read("*a")
  f:close()
  reqs = {}
  local k = 0
  for p, body in data:gmatch("([^\1]*)\1([^\2]*)\2") do
    if k >= first and k < first + count then reqs[#reqs + 1] = wrk.format("POST", p, { ["Content-Type"] = "text/xml" }, body) end
    k = k + 1
  end
  nreq, i, bad, wrapped, checked = #reqs, 0, 0, 0, false
end
-- wrk calls request() once before it sends anything, to check what it returns: that call takes none
function request()
  if not checked then
    checked = true
    return reqs[1]
  end
  i = i + 1
  if i > nreq then i, wrapped = 1, wrapped + 1 end
  return reqs[i]
end
function delay() return math.random(0, spread) end
function response(status, headers, body)
  if status ~= 200 or body ~= "success" then bad = bad + 1 end
end
function done(summary, latency, requests)
  local bad, wrapped = 0, 0
  for _, t in ipairs(threads) do bad, wrapped = bad + t:get("bad"), wrapped + t:get("wrapped") end
  local e = summary.errors
  io.write(string.format("wrk-result %d %d %d %d %d %d %d %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    bad, wrapped, e.connect, e.read, e.write, e.timeout))
end
`;

/** Whether wrk is on PATH. */
export const wrkInstalled = (): boolean => spawnSync('wrk', ['-v']).error === undefined;

/** The prepared requests in a directory of their own, with the script; `remove` deletes both. */
export class WrkRequests {
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'wxreach-wrk-'));
  private readonly file = path.join(this.dir, 'requests');
  private readonly script = path.join(this.dir, 'at-rate.lua');

  constructor(requests: readonly WrkRequest[]) {
    // a path and a body never hold the bytes 1 and 2, which delimit them
    writeFileSync(this.file, requests.map((r) => `${r.path}\x01${r.body}\x02`).join(''));
    writeFileSync(this.script, SCRIPT);
  }

  /**
   * Requests [first, first + count) of the file sent to `url` at about `rate` a second for `seconds`
   * over `connections` connections. Fails when it needed more than `count` (each is sent once).
   */
  async atRate(url: string, o: { first: number; count: number; rate: number; seconds: number; connections: number }): Promise<WrkRun> {
    // A connection's round is its wait and its answer (about 2 ms more at this machine's ms timers):
    // the mean wait that gives `rate` over all of them.
    const spread = Math.max(0, Math.round(2 * ((o.connections * 1000) / o.rate - 2)));
    const args = ['-t1', `-c${o.connections}`, `-d${o.seconds}s`, '-s', this.script, url, '--', this.file, String(o.first), String(o.count), String(spread)];
    const { stdout } = await promisify(execFile)('wrk', args, { maxBuffer: 1 << 20 });
    const line = /^wrk-result (.*)$/m.exec(stdout);
    if (!line) throw new Error(`wrk printed no result:\n${stdout}`);
    const [requests, durationUs, p50, p95, p99, max, bad, wrapped, connect, read, write, timeout] = line[1].split(' ').map(Number);
    if (wrapped > 0) throw new Error(`wrk needed more than the ${o.count} requests prepared (it sent some twice): prepare more`);
    const errors = Object.entries({ 'not 200 success': bad, 'connect error': connect, 'read error': read, 'write error': write, timeout }).filter(([, n]) => n > 0);
    return {
      requests,
      seconds: durationUs / 1e6,
      p50: p50 / 1000,
      p95: p95 / 1000,
      p99: p99 / 1000,
      max: max / 1000,
      failures: errors.map(([what, n]) => `${n}× ${what}`).join('; '),
    };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
