// A page of notices from GET /v1/notifications (search or parked), with "more" for the next page.
import { useEffect, useState } from 'preact/hooks';
import { api, query } from './api.js';
import { when } from './format.js';
import { html } from './html.js';
import { statusLabel, t } from './i18n.js';
import { Loading, Problem, Table } from './panel.js';

/** The notices `params` select, page by page (null params: nothing asked yet). */
export function NoticeList({ params, parked = false }) {
  const [state, setState] = useState({ items: [], next: null });
  const key = params === null ? null : query(params);
  const load = async (after, items) => {
    setState({ items, next: null, loading: true });
    try {
      const page = await api(`/v1/notifications${query({ ...params, after })}`);
      setState({ items: [...items, ...page.items], next: page.next, loading: false });
    } catch (error) {
      setState({ items, next: null, loading: false, error });
    }
  };
  useEffect(() => {
    if (key !== null) void load(undefined, []);
  }, [key]);
  if (key === null) return null;
  return html`
    <${Problem} error=${state.error} />
    ${state.items.length === 0 && !state.loading && !state.error && html`<p class="muted">${t('none')}</p>`}
    ${state.items.length > 0 &&
    html`<${Table} label=${t('notices.results')} head=${[t('notice.id'), t('notice.status'), t('template'), t('notice.openid'), parked ? t('parked.until') : t('notice.created')]}>
      ${state.items.map(
        (n) => html`<tr data-notice=${n.id}>
          <td class="mono small"><a href=${`#/notice/${encodeURIComponent(n.id)}`}>${n.id}</a></td>
          <td><span class=${`badge status-${n.status}`}>${statusLabel(n.status)}</span></td>
          <td>${n.template}</td>
          <td class="mono small">${n.openid}</td>
          <td class="small">${parked ? when(n.parkedUntil) : when(n.history?.[0]?.at)}</td>
        </tr>`,
      )}
    <//>`}
    <${Loading} loading=${state.loading} />
    ${state.next && html`<button type="button" onClick=${() => load(state.next, state.items)}>${t('more')}</button>`}
  `;
}
