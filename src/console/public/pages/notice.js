// One notice: the request, the template as the user saw it, the timeline (each decision with its
// reason and the WeChat call behind it, the receipt), the fallback sentence, its webhook deliveries.
import { query, useApi } from '../api.js';
import { ms, when } from '../format.js';
import { html } from '../html.js';
import { statusLabel, t } from '../i18n.js';
import { Loading, Problem, Section } from '../panel.js';
import { DeliveriesTable } from './webhooks.js';

const RECEIPT = /receipt for msgid/;

function Fields({ rows }) {
  return html`<dl class="fields">${rows.filter(([, v]) => v !== undefined && v !== null && v !== '').map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>`;
}

/** A data field as sent: a string, or { value, color }. */
const fieldValue = (v) => (typeof v === 'object' && v !== null ? v.value : v);

function Timeline({ history }) {
  return html`<ol class="timeline">
    ${history.map((h) => {
      const receipt = RECEIPT.test(h.detail);
      return html`<li class=${receipt ? 'receipt' : ''} data-status=${h.status}>
        <time datetime=${h.at}>${when(h.at)}</time>
        <span class=${`badge status-${h.status}`}>${statusLabel(h.status)}</span>
        ${receipt && html`<span class="badge">${t('notice.receipt')}</span>`}
        <span class="detail">${h.detail}</span>
        ${h.call &&
        html`<span class="call mono small" data-call=${h.call.path}>${h.call.path} · errcode ${h.call.errcode ?? '—'} · ${ms(h.call.ms)}</span>`}
      </li>`;
    })}
  </ol>`;
}

export function Notice({ id }) {
  const notice = useApi(`/v1/notifications/${encodeURIComponent(id)}`);
  // a server without the `notification` filter refuses the query (400 invalid_request): shown as not available
  const deliveries = useApi(`/v1/webhook-deliveries${query({ notification: id })}`);
  const n = notice.data;
  return html`
    <p><a href="#/notices">← ${t('notices.search')}</a></p>
    <${Problem} error=${notice.error} />
    <${Loading} loading=${notice.loading && !n} />
    ${n &&
    html`
      <${Section} title=${t('notice.title')} id="summary">
        <p class="mono small" data-notice=${n.id}>${n.id}</p>
        <p>
          <span class=${`badge big status-${n.status}`} data-status=${n.status}>${statusLabel(n.status)}</span>
          ${n.channel && html` <span class="badge">${t(`channel.${n.channel}`)}</span>`} ${n.reason && html` <span class="bad">${n.reason}</span>`}
        </p>
      <//>
      <${Section} title=${t('notice.request')} id="request">
        <${Fields}
          rows=${[
            [t('account'), n.account],
            [t('notice.openid'), n.openid],
            [t('template'), n.template],
            [t('template.id'), n.templateId],
            ['msgid', n.msgid],
            ['url', n.url],
            ...Object.entries(n.data ?? {}).map(([k, v]) => [k, fieldValue(v)]),
          ]}
        />
      <//>
      ${n.rendered && html`<${Section} title=${t('notice.rendered')} id="rendered"><pre class="rendered">${n.rendered}</pre><//>`}
      <${Section} title=${t('notice.timeline')} id="timeline"><${Timeline} history=${n.history} /><//>
      ${n.text && html`<${Section} title=${t('notice.fallback')} id="fallback"><blockquote class="fallback">${n.text}</blockquote><//>`}
      <${Section} title=${t('webhooks.deliveries')} id="notice-deliveries">
        ${deliveries.error?.code === 'invalid_request' ? html`<p class="muted">${t('unavailable')}</p>` : html`<${Problem} error=${deliveries.error} />`}
        ${deliveries.data && html`<${DeliveriesTable} deliveries=${deliveries.data.deliveries} onChange=${deliveries.reload} />`}
      <//>
    `}
  `;
}
