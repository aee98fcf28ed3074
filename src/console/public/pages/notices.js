// Notice search: by id (opens the notice), by the user's openid, or by a business data field.
import { useState } from 'preact/hooks';
import { query } from '../api.js';
import { html } from '../html.js';
import { t } from '../i18n.js';
import { NoticeList } from '../notice-list.js';
import { Section } from '../panel.js';
import { AccountPicker } from '../range.js';

const MODES = ['id', 'openid', 'field'];

/** `search`: the hash route's query (`openid=…` or `field=…&value=…`, maybe `account=…`). */
export function Notices({ search, accounts }) {
  const asked = new URLSearchParams(search ?? '');
  const [form, setForm] = useState({
    mode: asked.has('field') ? 'field' : asked.has('openid') ? 'openid' : 'id',
    value: asked.get('openid') ?? asked.get('value') ?? '',
    field: asked.get('field') ?? '',
    account: asked.get('account'),
  });
  // a search reads one account's indexes: the first one unless another is chosen (the accounts may arrive after the first render)
  const account = form.account ?? accounts[0] ?? null;
  const submit = (e) => {
    e.preventDefault();
    const value = form.value.trim();
    if (!value) return;
    if (form.mode === 'id') location.hash = `#/notice/${encodeURIComponent(value)}`;
    else if (form.mode === 'openid') location.hash = `#/notices${query({ openid: value, account })}`;
    else location.hash = `#/notices${query({ field: form.field.trim(), value, account })}`;
  };
  const params = asked.has('openid') || asked.has('field') ? Object.fromEntries(asked) : null;
  return html`
    <${Section} title=${t('notices.search')} id="search">
      <form class="search" onSubmit=${submit}>
        <label>${t('notices.by')}
          <select value=${form.mode} onChange=${(e) => setForm({ ...form, mode: e.currentTarget.value })}>
            ${MODES.map((m) => html`<option value=${m}>${t(`notices.by.${m}`)}</option>`)}
          </select>
        </label>
        ${form.mode === 'field' &&
        html`<label>${t('notices.field')} <input name="field" value=${form.field} onInput=${(e) => setForm({ ...form, field: e.currentTarget.value })} placeholder="order_no" /></label>`}
        <label>${t(`notices.value.${form.mode}`)} <input name="value" value=${form.value} onInput=${(e) => setForm({ ...form, value: e.currentTarget.value })} /></label>
        ${form.mode !== 'id' && html`<${AccountPicker} accounts=${accounts} value=${account} onChange=${(chosen) => setForm({ ...form, account: chosen })} all=${false} />`}
        <button type="submit">${t('notices.go')}</button>
      </form>
    <//>
    ${params && html`<${Section} title=${t('notices.results')} id="results"><${NoticeList} params=${params} /><//>`}
  `;
}
