#!/usr/bin/env node
import { parseArgs } from 'node:util';

/** Talks to a running wxreach over its API: the operator's tool for its accounts. */

const USAGE = `usage: wxreach accounts <command> [options]

commands:
  accounts list      the accounts wxreach serves, with their state (GET /v1/accounts)
  accounts recover   restore every merchant authorised to the third-party platform from
                     WeChat's authoriser list, e.g. after Redis lost them (POST /v1/component/recover)

options:
  --url <url>   where wxreach listens (default http://127.0.0.1:8080)
  --key <key>   an API key (default: the environment variable WXREACH_API_KEY)
  --json        print the answer as JSON
  -h, --help    this text
`;

/** Recovery may wait for WeChat to push a verify ticket, then page through every authoriser. */
const TIMEOUT_MS = 180_000;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

class CliError extends Error {}

interface Options {
  url: string;
  key: string | undefined;
  json: boolean;
}

async function call(o: Options, method: 'GET' | 'POST', path: string): Promise<unknown> {
  const base = o.url.replace(/\/+$/, '');
  let res: Response;
  try {
    res = await fetch(base + path, {
      method,
      headers: o.key ? { authorization: `Bearer ${o.key}` } : {},
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    // fetch says only "fetch failed": the reason (ECONNREFUSED, ENOTFOUND, a bad port…) is its cause.
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(`cannot reach wxreach at ${base}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new CliError(`${method} ${path} answered HTTP ${res.status} with a body that is not JSON${text ? `: ${text.slice(0, 200)}` : ''}`);
  }
  if (!res.ok) {
    const e = (body as { error?: { code?: string; message?: string; details?: unknown } }).error;
    const hint = res.status === 401 ? ' (pass --key or set WXREACH_API_KEY)' : '';
    const details = e?.details === undefined ? '' : ` ${JSON.stringify(e.details)}`;
    throw new CliError(`${method} ${path} failed: HTTP ${res.status} ${e?.code ?? ''}: ${e?.message ?? text}${details}${hint}`);
  }
  return body;
}

const appids = (list: unknown) => (Array.isArray(list) && list.length > 0 ? ` (${list.join(', ')})` : '');
const count = (list: unknown) => (Array.isArray(list) ? list.length : 0);

function printSummary(s: Record<string, unknown>, io: CliIo): void {
  io.out(`restored:            ${count(s.restored)}${appids(s.restored)}`);
  io.out(`unchanged:           ${Number(s.unchanged ?? 0)}`);
  io.out(`needs authorisation: ${count(s.needsAuthorisation)}${appids(s.needsAuthorisation)}`);
  io.out(`revoked:             ${count(s.revoked)}${appids(s.revoked)}`);
  if (count(s.needsAuthorisation) > 0) io.out('accounts that need authorisation: send their merchant a new link (GET /v1/component/authorize-url)');
}

/** One line per account: its appid, then its other fields as name=value. */
function printAccounts(body: unknown, io: CliIo): void {
  const list = Array.isArray(body) ? body : (body as { accounts?: unknown }).accounts;
  const accounts = Array.isArray(list) ? (list as Record<string, unknown>[]) : [];
  if (accounts.length === 0) io.out('no accounts');
  for (const a of accounts) {
    const rest = Object.entries(a)
      .filter(([k]) => k !== 'appid' && k !== 'account')
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
    io.out([String(a.appid ?? a.account ?? '?'), ...rest].join('  '));
  }
}

/** Runs the command line `argv` (without node and the script); returns the exit code. */
export async function run(argv: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string', default: 'http://127.0.0.1:8080' },
        key: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  const command = positionals.join(' ');
  if (command !== 'accounts list' && command !== 'accounts recover') {
    io.err(`${command ? `unknown command: ${command}` : 'no command given'}\n\n${USAGE}`);
    return 2;
  }
  const o: Options = { url: values.url, key: values.key ?? (io.env.WXREACH_API_KEY || undefined), json: values.json };
  try {
    const body = (command === 'accounts recover' ? await call(o, 'POST', '/v1/component/recover') : await call(o, 'GET', '/v1/accounts')) as Record<string, unknown>;
    if (o.json) io.out(JSON.stringify(body, null, 2));
    else if (command === 'accounts recover') printSummary(body, io);
    else printAccounts(body, io);
    return 0;
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    io.err(`wxreach: ${err.message}`);
    return 1;
  }
}

if (require.main === module) {
  run(process.argv.slice(2), { out: (l) => console.log(l), err: (l) => console.error(l), env: process.env }).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`wxreach: ${(err as Error).message}`);
      process.exit(1);
    },
  );
}
