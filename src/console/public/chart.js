// A time series drawn by uPlot, as wide as its container (it follows resizes).
import uPlot from 'uplot';
import { useEffect, useRef } from 'preact/hooks';
import { html } from './html.js';

const COLOURS = ['#1f77b4', '#2ca02c', '#ff7f0e', '#d62728', '#9467bd', '#8c564b', '#7f7f7f'];

/** `starts`: ISO bucket starts; `series`: [{ label, values, dash? }]. */
export function TimeChart({ starts, series, height = 220, label }) {
  const box = useRef(null);
  useEffect(() => {
    const el = box.current;
    if (!el || starts.length === 0) return undefined;
    const data = [starts.map((s) => Date.parse(s) / 1000), ...series.map((s) => s.values)];
    const opts = {
      width: el.clientWidth,
      height,
      series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: COLOURS[i % COLOURS.length], width: 2, dash: s.dash }))],
      scales: { x: { time: true } },
      legend: { live: false },
    };
    const plot = new uPlot(opts, data, el);
    const resize = new ResizeObserver(() => plot.setSize({ width: el.clientWidth, height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [starts, series, height]);
  return html`<div class="chart" ref=${box} role="img" aria-label=${label}></div>`;
}
