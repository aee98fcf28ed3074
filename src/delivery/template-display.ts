import { DROPPED_FIELDS as DROPPED, SHOWN_CHARS, shownTemplateText, templateFields } from '../wechat/template-content';
import { plainValues, type Notification } from './notification';
import type { TemplateRegistry } from './template-registry';

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

/**
 * The notice's template message as WeChat shows it (the template's last known title and content,
 * filled with the notice's data), or undefined when the content is not known.
 */
export async function renderedTemplate(n: Pick<Notification, 'template' | 'templateId' | 'data'>, templates: Pick<TemplateRegistry, 'resolve' | 'state'>): Promise<string | undefined> {
  const templateId = n.templateId ?? (await templates.resolve(n.template))?.templateId;
  const state = templateId === undefined ? undefined : await templates.state(templateId);
  if (state?.content === undefined) return undefined;
  const values = plainValues(n.data);
  return shownTemplateText(state.title ?? '', state.content, (name) => (Object.hasOwn(values, name) ? values[name] : undefined));
}
