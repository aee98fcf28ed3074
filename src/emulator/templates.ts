import type { Account } from './account';
import type { SeedTemplate } from './options';
import { templateFields } from '../wechat/template-content';

/** Adds (or replaces) a template; one implementation for the control API, seeds and api_add_template. */
export function addTemplate(account: Account, t: SeedTemplate): string {
  const template_id = t.template_id || account.ids.templateId();
  if (t.short_id) account.state.library.set(t.short_id, { title: t.title, content: t.content });
  account.state.templates.set(template_id, {
    template_id,
    title: t.title,
    content: t.content,
    placeholders: templateFields(t.content),
    primary_industry: 'IT科技',
    deputy_industry: '互联网|电子商务',
    example: '',
  });
  return template_id;
}
