import { ERRCODE } from '../../wechat/errcodes';
import type { Account } from '../account';
import { WX_OK, wxError } from '../wx-errors';
import { addTemplate } from '../templates';
import { jsonObject, type ApiRequest } from './types';

/** Accounts may hold at most 25 templates (docs/wechat-protocol-notes.md "Template messages"). */
const MAX_TEMPLATES = 25;

/** GET /cgi-bin/template/get_all_private_template */
export function listTemplates(account: Account): string {
  const template_list = [...account.state.templates.values()].map((t) => ({
    template_id: t.template_id,
    title: t.title,
    primary_industry: t.primary_industry,
    deputy_industry: t.deputy_industry,
    content: t.content,
    example: t.example,
  }));
  return JSON.stringify({ template_list });
}

/** POST /cgi-bin/template/del_private_template {template_id} */
export function deleteTemplate(account: Account, req: ApiRequest): string {
  const b = jsonObject(req.body);
  if (!b) return wxError(ERRCODE.DATA_FORMAT_ERROR, req.rid);
  if (typeof b.template_id !== 'string' || b.template_id === '') return wxError(ERRCODE.INVALID_TEMPLATE_ID_SIZE, req.rid);
  return account.state.templates.delete(b.template_id) ? WX_OK : wxError(ERRCODE.INVALID_TEMPLATE_ID, req.rid);
}

/** A plausible library template for a short id; category templates list their keywords. */
function libraryContent(keywords: string[] | undefined): string {
  const names = keywords && keywords.length > 0 ? keywords : ['内容', '时间'];
  const lines = names.map((name, i) => `${name}：{{keyword${i + 1}.DATA}}`);
  return ['{{first.DATA}}', ...lines, '{{remark.DATA}}'].join('\n');
}

/** POST /cgi-bin/template/api_add_template {template_id_short, keyword_name_list?} → a new template id. */
export function apiAddTemplate(account: Account, req: ApiRequest): string {
  const b = jsonObject(req.body);
  if (!b) return wxError(ERRCODE.DATA_FORMAT_ERROR, req.rid);
  const short = b.template_id_short;
  if (typeof short !== 'string' || short === '') return wxError(ERRCODE.DATA_FORMAT_ERROR, req.rid, 'data format error: template_id_short missing');
  const kw = b.keyword_name_list;
  if (kw !== undefined && (!Array.isArray(kw) || !kw.every((k) => typeof k === 'string'))) return wxError(ERRCODE.DATA_FORMAT_ERROR, req.rid);
  if (account.state.templates.size >= MAX_TEMPLATES) return wxError(ERRCODE.TOO_MANY_TEMPLATES, req.rid);
  const known = account.state.library.get(short);
  const template_id = addTemplate(account, known ?? { title: `模板 ${short}`, content: libraryContent(kw as string[] | undefined) });
  return JSON.stringify({ errcode: 0, errmsg: 'ok', template_id });
}
