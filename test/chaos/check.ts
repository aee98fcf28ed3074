import type { InboxEntry } from '../../src/emulator';
import { FALLBACK_TEXT, recipientKey } from './scenario';

/** What the business learned at accept time plus the final GET /v1/notifications/:id. */
export interface Accepted {
  seq: string;
  id: string;
  /** The appid of the Official Account the notice was enqueued for. */
  account: string;
  openid: string;
  template: string;
  /** The id the account has for `template` at WeChat: the only one its notice may be sent with. */
  templateId: string;
  final?: FinalView;
}

export interface FinalView {
  account: string;
  status: string;
  reason?: string;
  channel?: string;
  templateId?: string;
  history: Array<{ at: string; status: string; detail: string }>;
}

export const TERMINAL = new Set(['delivered', 'fallback_sent', 'failed']);

export interface Problem {
  kind: string;
  seq: string;
  id: string;
  detail: string;
}

export interface Report {
  accepted: number;
  byStatus: Record<string, number>;
  byReason: Record<string, number>;
  byTemplatePath: Record<string, number>;
  byFallbackChannel: Record<string, number>;
  inbox: { template: number; customer_service: number; passive_reply: number };
  parkedAtSomePoint: number;
  bothTemplateAndFallback: number;
  outcomeUnknownReached: number;
  duplicates: number;
  problems: Problem[];
}

const inc = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);

/** The first "template path failed: …" reason of a history, reduced to its kind. */
function templatePath(n: FinalView): string {
  const line = n.history.find((h) => h.detail.startsWith('template path failed'))?.detail;
  if (!line) return n.history.some((h) => h.status === 'awaiting_receipt') ? 'template accepted' : 'no template call';
  if (/no receipt within/.test(line)) return 'fallback: no receipt';
  const rcpt = line.match(/receipt for msgid \d+: (.+)$/);
  if (rcpt) return `fallback: receipt ${rcpt[1]}`;
  const code = line.match(/errcode (\d+)/);
  if (/is invalid/.test(line)) return 'fallback: template known invalid, no call';
  if (code) return `fallback: errcode ${code[1]}`;
  return `fallback: ${line.replace(/^template path failed: /, '').slice(0, 60)}`;
}

/**
 * Joins the final statuses with what reached the users. Template entries are counted by
 * client_msg_id (= notification id), customer-service and passive entries by the unique text.
 * `inboxes` holds each user's inbox at the emulator under recipientKey(account, openid): the same
 * openid in two accounts is two users, and an entry in the wrong account's inbox is a problem.
 * `silentTemplates`: template ids whose receipts the emulator never sends; only their notices may
 * reach a user by both channels without a failed receipt (no receipt, then the timeout fallback).
 */
export function check(accepted: Accepted[], inboxes: Map<string, InboxEntry[]>, silentTemplates: ReadonlySet<string> = new Set()): Report {
  const byId = new Map(accepted.map((a) => [a.id, a]));
  const bySeq = new Map(accepted.map((a) => [a.seq, a]));
  const tpl = new Map<string, number>();
  const fb = new Map<string, InboxEntry[]>();
  const problems: Problem[] = [];
  const inbox = { template: 0, customer_service: 0, passive_reply: 0 };

  for (const [recipient, entries] of inboxes) {
    for (const e of entries) {
      inbox[e.channel] += 1;
      if (e.channel === 'template') {
        const a = e.client_msg_id ? byId.get(e.client_msg_id) : undefined;
        if (!a) {
          problems.push({ kind: 'orphan template entry', seq: '?', id: e.client_msg_id ?? '?', detail: `${recipient}: ${JSON.stringify(e)}` });
          continue;
        }
        if (recipientKey(a.account, a.openid) !== recipient) problems.push({ kind: 'wrong user', seq: a.seq, id: a.id, detail: `template reached ${recipient}, not ${recipientKey(a.account, a.openid)}` });
        tpl.set(a.id, (tpl.get(a.id) ?? 0) + 1);
      } else {
        const m = e.text.match(FALLBACK_TEXT);
        const a = m ? bySeq.get(m[1]) : undefined;
        if (!a) {
          problems.push({ kind: `orphan ${e.channel} entry`, seq: m?.[1] ?? '?', id: '?', detail: `${recipient}: ${JSON.stringify(e)}` });
          continue;
        }
        if (recipientKey(a.account, a.openid) !== recipient) problems.push({ kind: 'wrong user', seq: a.seq, id: a.id, detail: `${e.channel} reached ${recipient}, not ${recipientKey(a.account, a.openid)}` });
        fb.set(a.id, [...(fb.get(a.id) ?? []), e]);
      }
    }
  }

  const r: Report = {
    accepted: accepted.length,
    byStatus: {},
    byReason: {},
    byTemplatePath: {},
    byFallbackChannel: {},
    inbox,
    parkedAtSomePoint: 0,
    bothTemplateAndFallback: 0,
    outcomeUnknownReached: 0,
    duplicates: 0,
    problems,
  };

  for (const a of accepted) {
    const n = a.final;
    const t = tpl.get(a.id) ?? 0;
    const f = fb.get(a.id) ?? [];
    const say = (kind: string, detail: string) =>
      problems.push({ kind, seq: a.seq, id: a.id, detail: `${detail}; template entries ${t}, fallback entries ${f.length}; history ${JSON.stringify(n?.history ?? [])}` });
    if (t > 1) say('doubled template', `${t} template inbox entries`);
    if (f.length > 1) say('doubled fallback', `${f.length} customer-service/passive entries: ${f.map((e) => e.channel).join(', ')}`);
    r.duplicates += Math.max(0, t - 1) + Math.max(0, f.length - 1);
    if (t > 0 && f.length > 0) r.bothTemplateAndFallback += 1;
    if (!n) {
      say('no final status', 'GET never answered');
      continue;
    }
    if (n.account !== a.account) say('wrong account', `enqueued for ${a.account}, the notice says ${n.account}`);
    if (n.templateId !== undefined && n.templateId !== a.templateId) say('wrong template', `the account's ${a.template} is ${a.templateId}, the notice used ${n.templateId}`);
    const path = templatePath(n);
    const templateFailedByReceipt = path.startsWith('fallback: receipt failed');
    const silent = path === 'fallback: no receipt' && silentTemplates.has(n.templateId ?? '');
    if (t > 0 && f.length > 0 && !templateFailedByReceipt && !silent) say('both channels', `the template reached the user and so did the text, after "${path}"`);
    inc(r.byStatus, n.status);
    inc(r.byReason, `${n.status}: ${n.reason ?? '-'}`);
    inc(r.byTemplatePath, path);
    if (n.history.some((h) => h.status === 'awaiting_interaction')) r.parkedAtSomePoint += 1;
    if (!TERMINAL.has(n.status)) {
      say('not terminal', `status ${n.status}`);
      continue;
    }
    switch (n.status) {
      case 'delivered':
        if (t !== 1) say('delivered without its template', 'status delivered needs exactly one template entry');
        break;
      case 'fallback_sent':
        inc(r.byFallbackChannel, n.channel ?? '?');
        if (f.length !== 1) say(f.length === 0 ? 'lost fallback' : 'doubled fallback', 'status fallback_sent needs exactly one customer-service/passive entry');
        else if (n.channel && f[0].channel !== n.channel) say('channel mismatch', `status says ${n.channel}, inbox says ${f[0].channel}`);
        break;
      case 'failed':
        // outcome_unknown: the call may or may not have reached the user; at most once is all we know.
        if (n.reason === 'outcome_unknown') {
          if (f.length === 1) r.outcomeUnknownReached += 1;
        } else if (f.length > 0) say('failed but reached', `failed (${n.reason}) yet a fallback reached the user`);
        break;
    }
  }
  return r;
}

export function formatReport(r: Report, extra: Record<string, unknown>): string {
  const lines = [
    '── chaos: nothing lost, nothing doubled ──',
    ...Object.entries(extra).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`),
    `accepted: ${r.accepted}`,
    `final status: ${JSON.stringify(r.byStatus)}`,
    'by status: reason:',
    ...Object.entries(r.byReason).sort().map(([k, v]) => `  ${k.padEnd(48)} ${v}`),
    'template path:',
    ...Object.entries(r.byTemplatePath).sort().map(([k, v]) => `  ${k.padEnd(48)} ${v}`),
    `fallback_sent by channel: ${JSON.stringify(r.byFallbackChannel)}`,
    `parked (awaiting_interaction) at some point: ${r.parkedAtSomePoint}`,
    `inbox entries by channel: ${JSON.stringify(r.inbox)}`,
    `notices with both a template and a fallback entry: ${r.bothTemplateAndFallback}`,
    `failed outcome_unknown that did reach the user: ${r.outcomeUnknownReached}`,
    `duplicates found: ${r.duplicates}`,
    `problems: ${r.problems.length}`,
    ...r.problems.slice(0, 30).map((p) => `  [${p.kind}] ${p.seq} ${p.id}: ${p.detail}`.slice(0, 3000)),
  ];
  return lines.join('\n');
}
