// Template health per account: valid or not since when and why, the changes and self-healing,
// the template send quota and a 45009 pause.
import { query, useApi } from '../api.js';
import { num, when } from '../format.js';
import { html } from '../html.js';
import { t } from '../i18n.js';
import { Loading, Problem, Section, Table, Tile } from '../panel.js';
import { AccountPicker } from '../range.js';

function Quota({ view }) {
  if (!view) return null;
  const quota = view.quota ?? null;
  // `quotaPausedUntil` (ISO or null), or the older `templateQuota: { paused, until }`
  const pausedUntil = view.quotaPausedUntil ?? (view.templateQuota?.paused ? view.templateQuota.until : null);
  return html`<div class="tiles">
    <${Tile} label=${t('quota.limit')} value=${quota ? quota.dailyLimit : '—'} counter="quota.dailyLimit" />
    <${Tile} label=${t('quota.used')} value=${quota ? quota.used : '—'} counter="quota.used" />
    <${Tile} label=${t('quota.remaining')} value=${quota ? quota.remaining : '—'} counter="quota.remaining" tone=${quota && quota.remaining === 0 ? 'bad' : ''} />
    <${Tile} label=${t('quota.paused')} value=${pausedUntil ? t('quota.pausedUntil', { at: when(pausedUntil) }) : t('no')} counter="quota.paused" tone=${pausedUntil ? 'bad' : ''} />
  </div>
  ${quota && html`<p class="muted small">${t('quota.checked', { at: when(quota.checkedAt) })}</p>`}`;
}

function Events({ events }) {
  if (!events || events.length === 0) return null;
  return html`<ul class="events">
    ${events.map(
      (e) => html`<li>${when(e.at)}: <span class=${e.valid ? 'ok' : 'bad'}>${e.valid ? t('template.valid') : t('template.invalid')}</span>${e.reason ? ` (${e.reason})` : ''}${
        e.healedTo ? html` → ${t('template.healedTo')} <span class="mono">${e.healedTo}</span>` : ''
      }</li>`,
    )}
  </ul>`;
}

export function Templates({ account, onAccount, accounts, accountViews }) {
  const chosen = account ?? accounts[0] ?? null;
  const list = useApi(chosen === null ? null : `/v1/templates${query({ account: chosen })}`);
  const view = accountViews.find((a) => a.appid === chosen);
  return html`
    <div class="toolbar"><${AccountPicker} accounts=${accounts} value=${chosen} onChange=${onAccount} all=${false} /></div>
    <${Section} title=${t('quota.title')} id="quota"><${Quota} view=${view} /><//>
    <${Section} title=${t('templates.title')} id="templates">
      <${Problem} error=${list.error} />
      <${Loading} loading=${list.loading && !list.data} />
      ${list.data &&
      html`<${Table} label=${t('templates.title')} head=${[t('template'), t('template.id'), t('template.state'), t('template.since'), t('template.reason'), t('template.counts')]}>
        ${list.data.templates.map(
          (tp) => html`<tr data-template=${tp.name}>
            <th scope="row">${tp.name}<br /><span class="muted small">${tp.title ?? ''}</span></th>
            <td class="mono">${tp.templateId ?? '—'}</td>
            <td><span class=${tp.valid ? 'badge ok' : 'badge bad'}>${tp.valid ? t('template.valid') : t('template.invalid')}</span></td>
            <td>${when(tp.since)}</td>
            <td>${tp.reason ?? ''}<${Events} events=${tp.events} /></td>
            <td class="small">${Object.entries(tp.counts ?? {}).map(([k, v]) => html`<div>${k}: ${num(v)}</div>`)}</td>
          </tr>`,
        )}
      <//>`}
    <//>
  `;
}
