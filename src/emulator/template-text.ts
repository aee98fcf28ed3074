import { CONTENT_PLACEHOLDER as PLACEHOLDER, DROPPED_FIELDS as DROPPED, SHOWN_CHARS, templateFields } from '../wechat/template-content';
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

/** Cuts to 20 characters counted as code points, so an emoji or rare CJK char is never split. */
function cut(text: string): string {
  const chars = Array.from(text);
  return chars.length > SHOWN_CHARS ? chars.slice(0, SHOWN_CHARS).join('') : text;
}

/** The message as WeChat shows it since 2023: title line, then content lines with values cut to 20 chars. */
export function renderTemplate(tpl: EmulatedTemplate, data: TemplateData): string {
  const lines = [tpl.title];
  for (const line of tpl.content.split('\n')) {
    const names = templateFields(line);
    if (names.length > 0 && names.every((n) => DROPPED.has(n))) continue;
    const shown = line.replace(PLACEHOLDER, (_m, name: string) => (DROPPED.has(name) ? '' : cut(valueOf(data, name) ?? ''))).trim();
    if (shown !== '') lines.push(shown);
  }
  return lines.join('\n');
}
