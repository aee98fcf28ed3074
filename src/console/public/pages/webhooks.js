// Webhooks: deliveries with a retry button, and the endpoints they go to.
import { useState } from 'preact/hooks';
import { api, query, useApi } from '../api.js';
import { num, when } from '../format.js';
import { html } from '../html.js';
import { t } from '../i18n.js';
import { Loading, Problem, Section, Table } from '../panel.js';

/** After a retry is queued, the list is read again this much later (the attempt is made at once). */
const RELOAD_AFTER_MS = 800;

function RetryButton({ delivery, onDone }) {
  const [state, setState] = useState({});
  const retry = async () => {
    setState({ busy: true });
    try {
      await api(`/v1/webhook-deliveries/${encodeURIComponent(delivery.id)}/retry`, { method: 'POST' });
      setState({ done: true });
      setTimeout(onDone, RELOAD_AFTER_MS);
    } catch (error) {
      setState({ error });
    }
  };
  return html`<button type="button" class="small-button" data-retry=${delivery.id} disabled=${state.busy} onClick=${retry}>${t('webhooks.retry')}</button>
    ${state.done && html` <span class="ok small" role="status">${t('webhooks.queued')}</span>`}
    ${state.error && html` <span class="error small" role="alert">${state.error.message}</span>`}`;
}

/** Deliveries, newest first; the ones whose latest attempt failed get a retry button. */
export function DeliveriesTable({ deliveries, onChange }) {
  if (deliveries.length === 0) return html`<p class="muted">${t('none')}</p>`;
  return html`<${Table}
    label=${t('webhooks.deliveries')}
    head=${[t('webhooks.event'), t('webhooks.subject'), t('webhooks.status'), t('webhooks.attempts'), t('webhooks.last'), t('webhooks.next'), '']}
  >
    ${deliveries.map(
      (d) => html`<tr data-delivery=${d.id} data-status=${d.status}>
        <td>${d.type}<br /><span class="muted small mono">${d.id}</span></td>
        <td class="mono small">${d.type.startsWith('notification.') ? html`<a href=${`#/notice/${encodeURIComponent(d.subject)}`}>${d.subject}</a>` : (d.subject ?? '—')}</td>
        <td><span class=${d.status === 'succeeded' ? 'badge ok' : d.status === 'failed' ? 'badge bad' : 'badge'}>${t(`delivery.${d.status}`)}</span>${d.givenUp ? html` <span class="small bad">${t('webhooks.givenUp')}</span>` : ''}</td>
        <td>${num(d.attempts)}</td>
        <td class="small">${d.lastAttempt ? `${when(d.lastAttempt.at)} · ${d.lastAttempt.status ?? d.lastAttempt.error ?? ''}` : '—'}</td>
        <td class="small">${when(d.nextAttemptAt)}</td>
        <td>${d.status === 'failed' && html`<${RetryButton} delivery=${d} onDone=${onChange} />`}</td>
      </tr>`,
    )}
  <//>`;
}

const FILTERS = ['', 'failed', 'pending', 'succeeded'];

export function Webhooks() {
  const [status, setStatus] = useState('');
  const deliveries = useApi(`/v1/webhook-deliveries${query({ status })}`);
  const endpoints = useApi('/v1/webhook-endpoints');
  return html`
    <${Section} title=${t('webhooks.deliveries')} id="deliveries">
      <div class="bar">
        ${FILTERS.map((f) => html`<button type="button" class=${status === f ? 'chip on' : 'chip'} onClick=${() => setStatus(f)}>${f ? t(`delivery.${f}`) : t('all')}</button>`)}
        <button type="button" class="chip" onClick=${deliveries.reload}>${t('refresh')}</button>
      </div>
      <${Problem} error=${deliveries.error} />
      <${Loading} loading=${deliveries.loading && !deliveries.data} />
      ${deliveries.data && html`<${DeliveriesTable} deliveries=${deliveries.data.deliveries} onChange=${deliveries.reload} />`}
    <//>
    <${Section} title=${t('webhooks.endpoints')} id="endpoints">
      <${Problem} error=${endpoints.error} />
      ${endpoints.data &&
      (endpoints.data.endpoints.length === 0
        ? html`<p class="muted">${t('none')}</p>`
        : html`<${Table} label=${t('webhooks.endpoints')} head=${[t('webhooks.url'), t('webhooks.source'), t('webhooks.events'), t('webhooks.accounts'), t('webhooks.state')]}>
            ${endpoints.data.endpoints.map(
              (e) => html`<tr data-endpoint=${e.id}>
                <td class="mono small">${e.url}${e.description ? html`<br /><span class="muted">${e.description}</span>` : ''}</td>
                <td>${e.source}</td>
                <td class="small">${e.events ? e.events.join(', ') : t('all')}</td>
                <td class="small mono">${e.accounts ? e.accounts.join(', ') : t('all')}</td>
                <td>${e.disabled
                  ? html`<span class="badge bad">${t('webhooks.disabled')}</span> <span class="small">${e.disabled.message}</span>`
                  : e.failingSince
                    ? html`<span class="badge bad">${t('webhooks.failingSince', { at: when(e.failingSince) })}</span>`
                    : html`<span class="badge ok">${t('webhooks.active')}</span>`}</td>
              </tr>`,
            )}
          <//>`)}
    <//>
  `;
}
