import { DROPPED_FIELDS as DROPPED, SHOWN_CHARS, templateFields } from '../wechat/template-content';

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
