import { InvalidArgumentError, Option, type Command } from 'commander';
import { DELIVERY_STATUSES, endpointRecoverQuery } from '../../http/schemas/webhooks';
import { parsePort, type CliContext } from '../context';
import { table } from '../table';
import { listenForWebhooks, type ReceivedWebhook } from '../webhook-listener';
import { webhookKey } from '../webhook-signature';

type View = Record<string, unknown>;

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: an ISO time, or an age such as 30m, 2h, 3d (that long ago). */
function since(now: () => number) {
  return (v: string): string => {
    const age = /^(\d+)([mhd])$/.exec(v);
    const time = age ? new Date(now() - Number(age[1]) * UNITS[age[2]]).toISOString() : v;
    if (!endpointRecoverQuery.safeParse({ since: time }).success) throw new InvalidArgumentError('not a time: give an ISO time (2026-11-25T10:00:00Z) or an age (30m, 2h, 3d)');
    return time;
  };
}

/** One line per event: when, what, and the notice, template, account or endpoint it is about. */
function eventLine({ webhookId, payload, again }: ReceivedWebhook): string {
  const data = (payload.data ?? {}) as View;
  const type = String(payload.type);
  let about: string;
  if (type.startsWith('notification.')) about = `${String(data.id)} ${String(data.status)}${data.reason ? ` (${String(data.reason)})` : ''}`;
  else if (type.startsWith('template.')) about = `${String(data.account)} ${String(data.templateId)}${data.reason ? `: ${String(data.reason)}` : ''}`;
  else if (type === 'account.unauthorized') about = String(data.appid);
  else if (type === 'webhook.endpoint_disabled') {
    const disabled = data.disabled as { message?: string } | null | undefined;
    about = `${String(data.id)} ${String(data.url)}${disabled?.message ? `: ${disabled.message}` : ''}`;
  }
  else about = JSON.stringify(data).slice(0, 200);
  return `${String(payload.timestamp)}  ${type}  ${about}  [${webhookId}${again ? ', again' : ''}]`;
}

function printDeliveries(body: View, out: (line: string) => void): void {
  const deliveries = Array.isArray(body.deliveries) ? (body.deliveries as View[]) : [];
  if (deliveries.length === 0) return out('no deliveries');
  const last = (d: View) => {
    const a = d.lastAttempt as { at: string; status?: number; error?: string } | null;
    return a ? `${a.at} ${a.status ?? a.error ?? 'no answer'}` : '-';
  };
  const rows = deliveries.map((d) => [String(d.id), String(d.endpoint), String(d.type), String(d.status), String(d.attempts), last(d), String(d.nextAttemptAt ?? '-')]);
  for (const line of table([['ID', 'ENDPOINT', 'TYPE', 'STATUS', 'ATTEMPTS', 'LAST ATTEMPT', 'NEXT ATTEMPT'], ...rows])) out(line);
}

export function webhookCommands(program: Command, cx: CliContext, now: () => number): void {
  program
    .command('webhooks')
    .description("wxreach's status webhooks")
    .command('listen')
    .description('receive webhooks locally: verify each signature (Standard Webhooks) and print the event; register http://<host>:<port>/ as an endpoint')
    .addOption(new Option('--port <n>', 'the port to listen on (0: any free one, printed)').argParser(parsePort).makeOptionMandatory())
    .option('--host <host>', 'the address to listen on', '127.0.0.1')
    .option('--secret <whsec>', 'the endpoint’s signing secret, whsec_… (default: $WXREACH_WEBHOOK_SECRET)')
    .action(async (o: { port: number; host: string; secret?: string }, cmd: Command) => {
      const given = o.secret ?? cx.io.env.WXREACH_WEBHOOK_SECRET;
      if (!given) return cmd.error("error: required option '--secret <whsec>' not specified (or set WXREACH_WEBHOOK_SECRET)", { exitCode: 2 });
      let key: Buffer;
      try {
        key = webhookKey(given);
      } catch (err) {
        return cmd.error(`error: option '--secret <whsec>': ${(err as Error).message}`, { exitCode: 2 });
      }
      const json = cx.options(cmd).json;
      const listener = await listenForWebhooks({
        port: o.port,
        host: o.host,
        key,
        now,
        onEvent: (e) => cx.io.out(json ? JSON.stringify({ webhookId: e.webhookId, again: e.again, ...e.payload }) : eventLine(e)),
        onRejected: (reason) => cx.io.err(`refused a request: ${reason}`),
      });
      cx.io.err(`listening on ${listener.url} for wxreach's webhooks (Ctrl-C stops)`);
      await cx.untilStopped();
      await listener.close();
    });

  const deliveries = program.command('deliveries').description('webhook deliveries: what was sent where, and sending again');
  deliveries
    .command('list')
    .description("deliveries to this key's endpoints (GET /v1/webhook-deliveries)")
    .addOption(new Option('--status <status>', 'only these (failed: the latest attempt failed, retry pending or not)').choices(DELIVERY_STATUSES))
    .option('--endpoint <id>', 'only to this endpoint')
    .action(async (o: { status?: string; endpoint?: string }, cmd: Command) => {
      const { body } = await cx.call(cmd, 'GET', '/v1/webhook-deliveries', { query: { status: o.status, endpoint: o.endpoint } });
      cx.show(cmd, body, () => printDeliveries(body as View, cx.io.out));
    });
  deliveries
    .command('retry')
    .description('attempt a delivery again now (POST /v1/webhook-deliveries/:id/retry)')
    .argument('<id>', 'the delivery id (its webhook-id)')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { body } = await cx.call(cmd, 'POST', `/v1/webhook-deliveries/${encodeURIComponent(id)}/retry`);
      cx.show(cmd, body, () => cx.io.out(`scheduled ${id} again (${String((body as View).status)})`));
    });
  deliveries
    .command('recover')
    .description('resend what failed to an endpoint since a time, with the same webhook-ids (POST /v1/webhook-endpoints/:id/recover)')
    .argument('<endpoint>', 'the endpoint id')
    .requiredOption('--since <time>', 'an ISO time, or an age: 30m, 2h, 3d', since(now))
    .action(async (endpoint: string, o: { since: string }, cmd: Command) => {
      const { body } = await cx.call(cmd, 'POST', `/v1/webhook-endpoints/${encodeURIComponent(endpoint)}/recover`, { query: { since: o.since } });
      cx.show(cmd, body, () => cx.io.out(`${Number((body as View).deliveries)} deliveries to ${endpoint} that failed since ${o.since} scheduled again`));
    });
}
