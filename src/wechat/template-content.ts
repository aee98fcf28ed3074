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
