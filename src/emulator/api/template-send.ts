import { ERRCODE } from '../../wechat/errcodes';
import type { Account } from '../account';
import { outcomeFor, reachesUser, scheduleReceipt } from '../receipts';
import { missingField, renderTemplate, type TemplateData } from '../template-text';
import { wxError } from '../wx-errors';
import { jsonObject, type ApiRequest } from './types';

/** client_msg_id is honoured for 10 minutes (docs/wechat-protocol-notes.md "Template messages"). */
const CLIENT_MSG_ID_MS = 10 * 60 * 1000;

/** Daily quota on the virtual clock, reset at midnight China time; every call that gets this far counts. */
function overQuota(account: Account): boolean {
  const { state } = account;
  const day = account.clock.chinaDay();
  if (state.quotaDay !== day) {
    state.quotaDay = day;
    state.quotaUsed = 0;
  }
  if (state.quotaUsed >= account.opts.dailyTemplateQuota) return true;
  state.quotaUsed++;
  return false;
}

function remembered(account: Account, key: string | undefined): string | undefined {
  if (!key) return undefined;
  const hit = account.state.clientMsgIds.get(key);
  if (!hit) return undefined;
  if (account.clock.now() - hit.at < CLIENT_MSG_ID_MS) return hit.msgid;
  account.state.clientMsgIds.delete(key);
  return undefined;
}

/**
 * Keeps memory bounded under load: past 50k ids, forget those older than 10 minutes. A key is only
 * added when absent (an expired one is deleted first), so the map's order is the order of time:
 * the walk stops at the first young one instead of reading every id on every send.
 */
function remember(account: Account, key: string, msgid: string): void {
  const ids = account.state.clientMsgIds;
  const now = account.clock.now();
  if (ids.size >= 50_000) {
    for (const [k, v] of ids) {
      if (now - v.at < CLIENT_MSG_ID_MS) break;
      ids.delete(k);
    }
  }
  ids.delete(key);
  ids.set(key, { msgid, at: now });
}

/** A bare number literal: a 19-digit msgid must not be rounded through a JS number. */
const okAnswer = (msgid: string) => `{"errcode":0,"errmsg":"ok","msgid":${msgid}}`;

/**
 * POST /cgi-bin/message/template/send. Errors in a fixed precedence (token checked by the router):
 * 47001 → 45009 → 40003 → 43004 → 40037 → 43101 → 47003 → ok.
 */
export async function templateSend(account: Account, req: ApiRequest): Promise<string> {
  const b = jsonObject(req.body);
  if (!b) return wxError(ERRCODE.DATA_FORMAT_ERROR, req.rid);
  if (b.data !== undefined && (b.data === null || typeof b.data !== 'object')) return wxError(ERRCODE.DATA_FORMAT_ERROR, req.rid);
  if (overQuota(account)) return wxError(ERRCODE.DAILY_QUOTA_EXHAUSTED, req.rid);
  const user = typeof b.touser === 'string' ? account.state.users.get(b.touser) : undefined;
  if (!user) return wxError(ERRCODE.INVALID_OPENID, req.rid);
  if (!user.subscribed) return wxError(ERRCODE.REQUIRE_SUBSCRIBE, req.rid);
  const tpl = typeof b.template_id === 'string' ? account.state.templates.get(b.template_id) : undefined;
  if (!tpl) return wxError(ERRCODE.INVALID_TEMPLATE_ID, req.rid);
  if (user.refused.has(tpl.template_id)) return wxError(ERRCODE.USER_REFUSED_TEMPLATE, req.rid);
  const data = (b.data ?? {}) as TemplateData;
  const missing = missingField(tpl, data);
  if (missing) return wxError(ERRCODE.INVALID_TEMPLATE_ARGUMENT, req.rid, `argument invalid! data.${missing}.value is empty`);

  // WeChat's answer to a repeated client_msg_id is undocumented (docs/wechat-protocol-notes.md "Where the docs are unsure"). We choose a silent
  // success with the first msgid and nothing sent, which is what "only one message is sent" implies.
  const clientMsgId = typeof b.client_msg_id === 'string' && b.client_msg_id !== '' ? b.client_msg_id : undefined;
  const dedupeKey = clientMsgId && `${user.openid}\u0000${clientMsgId}`;
  const earlier = remembered(account, dedupeKey);
  if (earlier) return okAnswer(earlier);

  const msgid = account.ids.nextTemplateMsgId();
  if (dedupeKey) remember(account, dedupeKey, msgid);
  const outcome = outcomeFor(user, tpl.template_id);
  if (reachesUser(outcome)) {
    user.inbox.push({ at: account.clock.iso(), channel: 'template', text: renderTemplate(tpl, data), template_id: tpl.template_id, msgid, client_msg_id: clientMsgId });
  }
  const before = scheduleReceipt(account, user.openid, msgid, outcome);
  if (before) await before;
  return okAnswer(msgid);
}
