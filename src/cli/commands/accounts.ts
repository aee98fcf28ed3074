import type { Command } from 'commander';
import type { CliContext } from '../context';
import { table } from '../table';

type View = Record<string, unknown>;

/** Recovery may wait for WeChat to push a verify ticket, then page through every authoriser. */
const RECOVER_TIMEOUT_MS = 180_000;

const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
const appids = (v: unknown) => (list(v).length > 0 ? ` (${list(v).join(', ')})` : '');

function printSummary(s: View, out: (line: string) => void): void {
  out(`restored:            ${list(s.restored).length}${appids(s.restored)}`);
  out(`unchanged:           ${Number(s.unchanged ?? 0)}`);
  out(`needs authorisation: ${list(s.needsAuthorisation).length}${appids(s.needsAuthorisation)}`);
  out(`revoked:             ${list(s.revoked).length}${appids(s.revoked)}`);
  if (list(s.needsAuthorisation).length > 0) out('accounts that need authorisation: send their merchant a new link (GET /v1/component/authorize-url)');
}

function accountRow(a: View): string[] {
  if (a.state === 'unknown') return [String(a.appid), '-', 'unknown', '-', '-', '-'];
  const token = (a.token ?? {}) as { ok?: boolean; errcode?: number | null; problem?: string };
  const templates = (a.templates ?? {}) as { valid?: string[]; invalid?: Array<{ name: string; reason: string | null }> };
  const quota = (a.templateQuota ?? {}) as { paused?: boolean; until?: string };
  return [
    String(a.appid),
    String(a.kind),
    String(a.state),
    token.ok ? 'ok' : `refused ${token.errcode ?? ''}: ${token.problem ?? ''}`,
    [...(templates.valid ?? []), ...(templates.invalid ?? []).map((t) => `${t.name} (invalid: ${t.reason ?? '?'})`)].join(', ') || '-',
    quota.paused ? `paused until ${quota.until}` : 'ok',
  ];
}

function printAccounts(body: View, out: (line: string) => void): void {
  const accounts = Array.isArray(body.accounts) ? (body.accounts as View[]) : [];
  if (accounts.length === 0) return out('no accounts');
  for (const line of table([['APPID', 'KIND', 'STATE', 'TOKEN', 'TEMPLATES', 'TEMPLATE QUOTA'], ...accounts.map(accountRow)])) out(line);
}

function printTemplates(body: View, out: (line: string) => void): void {
  const templates = Array.isArray(body.templates) ? (body.templates as View[]) : [];
  out(`account ${String(body.account)}`);
  if (templates.length === 0) return out('no templates');
  const counts = (c: unknown) =>
    Object.entries((c ?? {}) as Record<string, number>)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ') || '-';
  const rows = templates.map((t) => [String(t.name), t.valid ? 'yes' : 'no', String(t.templateId ?? '-'), String(t.since ?? '-'), counts(t.counts), String(t.reason ?? '')]);
  for (const line of table([['NAME', 'VALID', 'TEMPLATE ID', 'SINCE', 'COUNTS', 'REASON'], ...rows])) out(line);
}

export function accountCommands(program: Command, cx: CliContext): void {
  program
    .command('templates')
    .description("an account's templates: current id, validity and counts (GET /v1/templates)")
    .option('--account <appid>', "the Official Account's appid (needed when the key can use more than one)")
    .action(async (o: { account?: string }, cmd: Command) => {
      const { body } = await cx.call(cmd, 'GET', '/v1/templates', { query: { account: o.account } });
      cx.show(cmd, body, () => printTemplates(body as View, cx.io.out));
    });

  const list = async (cmd: Command) => {
    const { body } = await cx.call(cmd, 'GET', '/v1/accounts');
    cx.show(cmd, body, () => printAccounts(body as View, cx.io.out));
  };
  const accounts = program
    .command('accounts')
    .description('the accounts the key may use, with their state (GET /v1/accounts); `accounts recover` restores merchants')
    .allowExcessArguments()
    .action(async (_o: unknown, cmd: Command) => {
      if (cmd.args.length > 0) return cmd.error(`error: unknown command 'accounts ${cmd.args[0]}' (try accounts list or accounts recover)`, { exitCode: 2 });
      await list(cmd);
    });
  accounts
    .command('list')
    .description('the accounts the key may use, with their state (GET /v1/accounts), as `accounts` alone')
    .action((_o: unknown, cmd: Command) => list(cmd));
  accounts
    .command('recover')
    .description("restore every merchant authorised to the third-party platform from WeChat's authoriser list, e.g. after Redis lost them (POST /v1/component/recover)")
    .action(async (_o: unknown, cmd: Command) => {
      const { body } = await cx.call(cmd, 'POST', '/v1/component/recover', { timeoutMs: RECOVER_TIMEOUT_MS });
      cx.show(cmd, body, () => printSummary(body as View, cx.io.out));
    });
}
