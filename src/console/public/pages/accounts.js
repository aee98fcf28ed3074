// Accounts: token health and refreshes, authorised or not, the last push seen, and how often the
// customer-service leg found the user's window open (over the last 24 hours).
import { useState } from 'preact/hooks';
import { query, useApi } from '../api.js';
import { num, percent, rate, when } from '../format.js';
import { html } from '../html.js';
import { t } from '../i18n.js';
import { Problem, Section, Table } from '../panel.js';
import { presetRange } from '../range.js';

/** At most this many accounts are listed (each row asks for its own figures). */
const SHOWN = 100;

/** window.open / (window.open + window.closed) of one account, last 24 h. */
function Coverage({ appid, range }) {
  const stats = useApi(`/v1/stats${query({ account: appid, from: range.from, to: range.to })}`);
  if (stats.error) return html`<span class="muted" title=${stats.error.message}>—</span>`;
  if (!stats.data) return html`<span class="muted">…</span>`;
  const open = stats.data.totals['window.open'] ?? 0;
  const closed = stats.data.totals['window.closed'] ?? 0;
  return html`<span data-coverage=${appid}>${percent(rate(open, open + closed))} <span class="muted small">(${num(open)} / ${num(open + closed)})</span></span>`;
}

function Token({ a }) {
  if (a.token?.ok) return html`<span class="badge ok">${t('token.ok')}</span>`;
  return html`<span class="badge bad">${t('token.refused')}</span> <span class="small">${a.token?.errcode ?? ''} ${a.token?.problem ?? ''}</span>`;
}

export function Accounts({ accountViews, error }) {
  // fixed when the page opens, so the rows' figures are asked for once
  const [range24h] = useState(() => presetRange('24h'));
  const shown = accountViews.slice(0, SHOWN);
  return html`
    <${Section} title=${t('accounts.title')} id="accounts">
      <${Problem} error=${error} />
      ${accountViews.length > SHOWN && html`<p class="muted">${t('accounts.shown', { shown: SHOWN, total: accountViews.length })}</p>`}
      <${Table}
        label=${t('accounts.title')}
        head=${[t('account'), t('accounts.kind'), t('accounts.state'), t('accounts.token'), t('accounts.refreshes'), t('accounts.lastRefusal'), t('accounts.lastPush'), t('accounts.coverage')]}
      >
        ${shown.map(
          (a) => html`<tr data-account=${a.appid}>
            <th scope="row" class="mono">${a.appid}</th>
            <td>${a.kind ? t(`kind.${a.kind}`) : '—'}</td>
            <td><span class=${a.state === 'active' ? 'badge ok' : 'badge bad'}>${t(`state.${a.state}`)}</span></td>
            <td><${Token} a=${a} /></td>
            <td>${num(a.tokenRefreshes24h)}</td>
            <td>${a.tokenRefusal ? `${a.tokenRefusal.errcode} · ${when(a.tokenRefusal.at)}` : '—'}</td>
            <td>${when(a.lastPushAt)}</td>
            <td>${a.state === 'unknown' ? '—' : html`<${Coverage} appid=${a.appid} range=${range24h} />`}</td>
          </tr>`,
        )}
      <//>
      <p class="muted small">${t('accounts.coverageNote')}</p>
    <//>
  `;
}
