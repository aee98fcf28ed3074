// Overview: what became of the notices in a time range, as tiles and as a time series per bucket.
import { useMemo } from 'preact/hooks';
import { query, useApi } from '../api.js';
import { TimeChart } from '../chart.js';
import { sumPrefix } from '../format.js';
import { html } from '../html.js';
import { counterLabel, t } from '../i18n.js';
import { Loading, Problem, Section, Tile } from '../panel.js';
import { AccountPicker, RangeBar } from '../range.js';

/** The tiles by final status and channel (and the notices still parked), in this order. */
export const STATUS_TILES = ['accepted', 'delivered', 'fallback_sent.customer_service', 'fallback_sent.passive_reply', 'parked'];
/** Per-bucket lines of the chart: a counter, or the sum of those starting with a prefix. */
const LINES = [
  { label: 'counter.accepted', of: (c) => c.accepted ?? 0 },
  { label: 'counter.delivered', of: (c) => c.delivered ?? 0 },
  { label: 'chart.fallback', of: (c) => sumPrefix(c, 'fallback_sent.') },
  { label: 'counter.parked', of: (c) => c.parked ?? 0 },
  { label: 'counter.failed', of: (c) => sumPrefix(c, 'failed.') },
];

export function Overview({ range, onRange, account, onAccount, accounts }) {
  const stats = useApi(`/v1/stats${query({ from: range.from, to: range.to, account })}`);
  const data = stats.data;
  const chart = useMemo(
    () => data && { starts: data.series.map((b) => b.start), series: LINES.map((l) => ({ label: t(l.label), values: data.series.map((b) => l.of(b.counts)) })) },
    [data],
  );
  const totals = data?.totals ?? {};
  const failures = Object.entries(totals)
    .filter(([k]) => k.startsWith('failed.'))
    .sort((a, b) => b[1] - a[1]);
  return html`
    <div class="toolbar"><${RangeBar} range=${range} onRange=${onRange} /><${AccountPicker} accounts=${accounts} value=${account} onChange=${onAccount} /></div>
    <${Problem} error=${stats.error} />
    <${Loading} loading=${stats.loading && !data} />
    ${data &&
    html`
      <${Section} title=${t('overview.outcomes')} id="outcomes">
        <div class="tiles">
          ${STATUS_TILES.map((c) => html`<${Tile} label=${counterLabel(c)} value=${totals[c] ?? 0} counter=${c} />`)}
          <${Tile} label=${counterLabel('failed')} value=${sumPrefix(totals, 'failed.')} counter="failed" tone=${sumPrefix(totals, 'failed.') > 0 ? 'bad' : ''} />
        </div>
      <//>
      <${Section} title=${t('overview.channels')} id="channels">
        <div class="tiles">
          ${['template.sent', 'template.refused', 'receipt.success', 'receipt.user_block', 'receipt.system_failed', 'receipt.none', 'window.open', 'window.closed'].map(
            (c) => html`<${Tile} label=${counterLabel(c)} value=${totals[c] ?? 0} counter=${c} />`,
          )}
        </div>
      <//>
      <${Section} title=${t('overview.failedBy')} id="failed-by-reason">
        ${failures.length === 0
          ? html`<p class="muted">${t('none')}</p>`
          : html`<div class="tiles">${failures.map(([c, n]) => html`<${Tile} label=${counterLabel(c)} value=${n} counter=${c} tone="bad" />`)}</div>`}
      <//>
      <${Section} title=${t('overview.series', { bucket: t(`bucket.${data.bucket}`) })} id="series">
        <${TimeChart} starts=${chart.starts} series=${chart.series} label=${t('overview.series', { bucket: t(`bucket.${data.bucket}`) })} />
      <//>
    `}
  `;
}
