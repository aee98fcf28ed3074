// Callback health: how fast wxreach answered WeChat's pushes (WeChat gives up after 5 s), and the
// pushes by kind.
import { useMemo } from 'preact/hooks';
import { query, useApi } from '../api.js';
import { TimeChart } from '../chart.js';
import { ms, num } from '../format.js';
import { html } from '../html.js';
import { t } from '../i18n.js';
import { Loading, Problem, Section, Table, Tile } from '../panel.js';
import { RangeBar } from '../range.js';

/** WeChat waits this long for an answer, then retries the push (three times in all). */
const WECHAT_WAITS_MS = 5000;
/** An answer slower than this share of WeChat's wait is shown as a warning. */
const WARN_SHARE = 0.5;

const tone = (v) => (v === null || v === undefined ? '' : v >= WECHAT_WAITS_MS ? 'bad' : v >= WECHAT_WAITS_MS * WARN_SHARE ? 'warn' : 'good');

export function Callbacks({ range, onRange }) {
  const stats = useApi(`/v1/stats/callbacks${query({ from: range.from, to: range.to })}`);
  const data = stats.data;
  const chart = useMemo(
    () =>
      data && {
        starts: data.series.map((b) => b.start),
        series: [
          { label: t('callbacks.p99'), values: data.series.map((b) => b.p99Ms ?? null) },
          { label: t('callbacks.limit'), values: data.series.map(() => WECHAT_WAITS_MS), dash: [6, 4] },
        ],
      },
    [data],
  );
  const counts = useMemo(() => data && { starts: data.series.map((b) => b.start), series: [{ label: t('callbacks.count'), values: data.series.map((b) => b.count) }] }, [data]);
  return html`
    <div class="toolbar"><${RangeBar} range=${range} onRange=${onRange} /></div>
    <${Problem} error=${stats.error} />
    <${Loading} loading=${stats.loading && !data} />
    ${data &&
    html`
      <${Section} title=${t('callbacks.title')} id="answers">
        <div class="tiles">
          <${Tile} label=${t('callbacks.count')} value=${data.answers.count} counter="answers.count" />
          <${Tile} label=${t('callbacks.p50')} value=${ms(data.answers.p50Ms)} counter="answers.p50Ms" tone=${tone(data.answers.p50Ms)} />
          <${Tile} label=${t('callbacks.p99')} value=${ms(data.answers.p99Ms)} counter="answers.p99Ms" tone=${tone(data.answers.p99Ms)} />
          <${Tile} label=${t('callbacks.over5s')} value=${data.answers.over5s} counter="answers.over5s" tone=${data.answers.over5s > 0 ? 'bad' : 'good'} />
        </div>
        <p class="muted small">${t('callbacks.note')}</p>
        <${TimeChart} starts=${chart.starts} series=${chart.series} label=${t('callbacks.p99')} />
        <${TimeChart} starts=${counts.starts} series=${counts.series} height=${140} label=${t('callbacks.count')} />
      <//>
      <${Section} title=${t('callbacks.byKind')} id="by-kind">
        <${Table} label=${t('callbacks.byKind')} head=${[t('callbacks.kind'), t('callbacks.count')]}>
          ${Object.entries(data.byKind)
            .sort((a, b) => b[1] - a[1])
            .map(([kind, n]) => html`<tr data-kind=${kind}><td class="mono">${kind}</td><td>${num(n)}</td></tr>`)}
        <//>
      <//>
    `}
  `;
}
