// Funnel per template: sent → receipt → fallback / parked / failed, each step with its rate; a
// rate that doubled since the previous equal period is shown in red.
import { query, useApi } from '../api.js';
import { num, percent } from '../format.js';
import { funnelOf, STEPS } from '../funnel.js';
import { html } from '../html.js';
import { counterLabel, t } from '../i18n.js';
import { Loading, Problem, Section, Table } from '../panel.js';
import { AccountPicker, previousRange, RangeBar } from '../range.js';

const keyOf = (row) => `${row.account}\u0000${row.template}`;

export function Funnel({ range, onRange, account, onAccount, accounts }) {
  const now = useApi(`/v1/stats${query({ from: range.from, to: range.to, account })}`);
  const before = previousRange(range);
  const earlier = useApi(`/v1/stats${query({ from: before.from, to: before.to, account })}`);
  const previous = new Map((earlier.data?.templates ?? []).map((r) => [keyOf(r), r.counts]));
  const rows = now.data?.templates ?? [];
  // A rate's mark needs the previous period too: rows wait for it (or for its failure, when they
  // show without marks), so no row is shown unmarked and then marked.
  const waiting = (now.loading && !now.data) || (earlier.loading && !earlier.data && !earlier.error);
  return html`
    <div class="toolbar"><${RangeBar} range=${range} onRange=${onRange} /><${AccountPicker} accounts=${accounts} value=${account} onChange=${onAccount} /></div>
    <${Problem} error=${now.error} />
    <${Loading} loading=${waiting} />
    ${now.data &&
    !waiting &&
    html`<${Section} title=${t('funnel.title')} id="funnel">
      <p class="muted">${t('funnel.rule')}</p>
      ${rows.length === 0
        ? html`<p class="muted">${t('none')}</p>`
        : html`<${Table} label=${t('funnel.title')} head=${[t('template'), ...STEPS.map(([s]) => counterLabel(s))]}>
            ${rows.map(
              (row) => html`<tr data-template=${row.template} data-account=${row.account}>
                <th scope="row"><span class="mono">${row.template}</span><br /><span class="muted small">${row.account}</span></th>
                ${funnelOf(row.counts, previous.get(keyOf(row))).map(
                  (s) => html`<td class=${s.jumped ? 'jump' : ''} data-step=${s.step} title=${s.before === null ? '' : t('funnel.before', { rate: percent(s.before) })}>
                    ${num(s.count)} <span class="rate">${percent(s.rate)}</span>${s.jumped ? html` <span class="flag">▲ ${t('funnel.jumped')}</span>` : ''}
                  </td>`,
                )}
              </tr>`,
            )}
          <//>`}
    <//>`}
  `;
}
