/** Since 2023-05 WeChat drops `first`/`remark` and shows each value cut to 20 characters (reference §5.5). */
export const SHOWN_CHARS = 20;
const DROPPED = new Set(['first', 'remark']);
const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+)\.DATA\s*\}\}/g;

/** The `data` keys a template's content shows, in order. */
export function templateFields(content: string): string[] {
  return [...content.matchAll(PLACEHOLDER)].map((m) => m[1]);
}

/** What the user will not see of `values` in this template, as history notes (empty when all fits). */
export function displayLosses(content: string | undefined, values: Readonly<Record<string, string>>): string[] {
  const notes: string[] = [];
  for (const name of Object.keys(values)) {
    if (DROPPED.has(name)) notes.push(`${name} is not shown by WeChat since 2023`);
  }
  const shown = content ? templateFields(content).filter((n) => !DROPPED.has(n)) : Object.keys(values).filter((n) => !DROPPED.has(n));
  for (const name of shown) {
    const v = values[name];
    if (v !== undefined && [...v].length > SHOWN_CHARS) notes.push(`${name} is cut to ${SHOWN_CHARS} characters (${[...v].length} given)`);
  }
  return notes;
}
