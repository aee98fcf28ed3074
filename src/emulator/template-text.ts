import { DROPPED_FIELDS as DROPPED, shownTemplateText } from '../wechat/template-content';
import type { EmulatedTemplate } from './state';

export type TemplateData = Record<string, unknown>;

function valueOf(data: TemplateData, name: string): string | undefined {
  const field = Object.prototype.hasOwnProperty.call(data, name) ? data[name] : undefined;
  if (field === null || typeof field !== 'object') return undefined;
  const value = (field as { value?: unknown }).value;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

/** The first placeholder (other than first/remark) with no non-empty value: 47003 names it. */
export function missingField(tpl: EmulatedTemplate, data: TemplateData): string | undefined {
  return tpl.placeholders.find((name) => !DROPPED.has(name) && !valueOf(data, name));
}

/** The message as WeChat shows it since 2023: title line, then content lines with values cut to 20 chars. */
export function renderTemplate(tpl: EmulatedTemplate, data: TemplateData): string {
  return shownTemplateText(tpl.title, tpl.content, (name) => valueOf(data, name));
}
