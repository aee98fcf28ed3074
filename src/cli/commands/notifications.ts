import { InvalidArgumentError, type Command } from 'commander';
import type { CliContext } from '../context';
import { table } from '../table';

/** `--data key=value` (repeatable) collected into the notification's `data`. */
function dataField(pair: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = pair.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError(`"${pair}" is not key=value`);
  const key = pair.slice(0, at);
  if (Object.hasOwn(previous, key)) throw new InvalidArgumentError(`"${key}" is given twice`);
  return { ...previous, [key]: pair.slice(at + 1) };
}

interface SendOptions {
  account?: string;
  openid: string;
  template: string;
  data: Record<string, string>;
  link?: string;
  fallbackText?: string;
  idempotencyKey?: string;
}

type View = Record<string, unknown>;

function printNotification(n: View, out: (line: string) => void): void {
  const fields = ['id', 'account', 'status', 'openid', 'template', 'templateId', 'msgid', 'channel', 'reason', 'text'];
  for (const line of table(fields.filter((f) => n[f] !== undefined).map((f) => [`${f}:`, String(n[f])]))) out(line);
  const history = Array.isArray(n.history) ? (n.history as View[]) : [];
  out('history:');
  for (const line of table(history.map((h) => [String(h.at), String(h.status), String(h.detail)]))) out(`  ${line}`);
}

export function notificationCommands(program: Command, cx: CliContext): void {
  program
    .command('send')
    .description('send a notification (POST /v1/notifications): template message first, customer-service text as the fallback')
    .option('--account <appid>', "the Official Account's appid (needed when the key can use more than one)")
    .requiredOption('--openid <openid>', 'the user')
    .requiredOption('--template <name>', 'a template name from the config, or a raw template id')
    .requiredOption('--data <key=value>', 'a template field; repeat for each (--data order_no=A1001 --data amount=39.80)', dataField)
    .option('--link <url>', 'where tapping the message leads (the notification’s `url`)')
    .option('--fallback-text <text>', 'the exact text to send if the template path fails')
    .option('--idempotency-key <key>', 'sending again with this key returns the first notification')
    .action(async (o: SendOptions, cmd: Command) => {
      const body = { account: o.account, openid: o.openid, template: o.template, data: o.data, url: o.link, fallbackText: o.fallbackText };
      const headers: Record<string, string> = o.idempotencyKey ? { 'idempotency-key': o.idempotencyKey } : {};
      const answer = await cx.call(cmd, 'POST', '/v1/notifications', { body, headers });
      const { id, status } = answer.body as { id: string; status: string };
      const replayed = answer.headers.get('idempotent-replayed') === 'true';
      cx.show(cmd, answer.body, () => cx.io.out(`${replayed ? 'already accepted' : 'accepted'} ${id} (${status}); follow it with: wxreach status ${id}`));
    });

  program
    .command('status')
    .description('a notification: its status and history (GET /v1/notifications/:id)')
    .argument('<id>', 'the id `send` printed')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { body } = await cx.call(cmd, 'GET', `/v1/notifications/${encodeURIComponent(id)}`);
      cx.show(cmd, body, () => printNotification(body as View, cx.io.out));
    });
}
