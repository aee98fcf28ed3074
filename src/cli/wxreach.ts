#!/usr/bin/env node
/** `wxreach`: the operator's and the scripts' command line for a running wxreach (package.json `bin`). */
import { Command, CommanderError } from 'commander';
import { CliError } from './api-client';
import { accountCommands } from './commands/accounts';
import { emulatorCommand } from './commands/emulator';
import { notificationCommands } from './commands/notifications';
import { webhookCommands } from './commands/webhooks';
import { CliContext, DEFAULT_URL, type CliIo } from './context';

export type { CliIo } from './context';

/** Exit codes: 0 done, 1 the call failed (wxreach refused it, an unknown id, unreachable), 2 a usage error. */
const USAGE_ERROR = 2;

function program(cx: CliContext, now: () => number): Command {
  const p = new Command('wxreach')
    .description('talks to a running wxreach over its API (GET /openapi.json describes it)')
    .option('--url <url>', `where wxreach listens (default: $WXREACH_URL or ${DEFAULT_URL})`)
    .option('--key, --api-key <key>', 'an API key (default: $WXREACH_API_KEY)')
    .option('--json', 'print answers as JSON, as they came (for scripts)')
    .showHelpAfterError('(wxreach --help lists the commands)')
    .configureHelp({ showGlobalOptions: true })
    // Commands made after this inherit these settings: errors come back to `run` as exceptions.
    .exitOverride()
    .configureOutput({ writeOut: (s) => cx.io.out(s.trimEnd()), writeErr: (s) => cx.io.err(s.trimEnd()) });
  notificationCommands(p, cx);
  accountCommands(p, cx);
  webhookCommands(p, cx, now);
  emulatorCommand(p, cx);
  return p;
}

/** Runs the command line `argv` (without node and the script); returns the exit code. */
export async function run(argv: string[], io: CliIo, now: () => number = Date.now): Promise<number> {
  const cx = new CliContext(io);
  const p = program(cx, now);
  try {
    await p.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : USAGE_ERROR;
    if (!(err instanceof CliError)) throw err;
    if (p.opts<{ json?: boolean }>().json && err.answer !== undefined) io.out(JSON.stringify(err.answer, null, 2));
    io.err(`wxreach: ${err.message}`);
    return 1;
  }
}

if (require.main === module) {
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());
  run(process.argv.slice(2), { out: (l) => console.log(l), err: (l) => console.error(l), env: process.env, signal: stop.signal }).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`wxreach: ${(err as Error).message}`);
      process.exit(1);
    },
  );
}
