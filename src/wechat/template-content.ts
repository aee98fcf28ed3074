/** A placeholder in a template's content, e.g. `{{keyword1.DATA}}`. */
export const CONTENT_PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+)\.DATA\s*\}\}/g;

/** Since 2023-05 WeChat drops these two fields from what the user sees (docs/wechat-protocol-notes.md "Template display rules")… */
export const DROPPED_FIELDS: ReadonlySet<string> = new Set(['first', 'remark']);
/** …and shows each other value cut to this many characters. */
export const SHOWN_CHARS = 20;

/** The `data` keys a template's content shows, in order. */
export function templateFields(content: string): string[] {
  return [...content.matchAll(CONTENT_PLACEHOLDER)].map((m) => m[1]);
}

/** Cuts to SHOWN_CHARS characters counted as code points, so an emoji or rare CJK char is never split. */
function cut(text: string): string {
  const chars = Array.from(text);
  return chars.length > SHOWN_CHARS ? chars.slice(0, SHOWN_CHARS).join('') : text;
}

/**
 * A template message as WeChat shows it since 2023: the title line, then the content's lines with
 * each value cut to SHOWN_CHARS characters; `first` and `remark` are not shown, and a line of
 * nothing else disappears. `valueOf` gives a field's value (undefined: none).
 */
export function shownTemplateText(title: string, content: string, valueOf: (name: string) => string | undefined): string {
  const lines = title ? [title] : [];
  for (const line of content.split('\n')) {
    const names = templateFields(line);
    if (names.length > 0 && names.every((n) => DROPPED_FIELDS.has(n))) continue;
    const shown = line.replace(CONTENT_PLACEHOLDER, (_m, name: string) => (DROPPED_FIELDS.has(name) ? '' : cut(valueOf(name) ?? ''))).trim();
    if (shown !== '') lines.push(shown);
  }
  return lines.join('\n');
}
