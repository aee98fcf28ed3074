// The time range and account the figures are for, shared by the pages that show figures.
import { useState } from 'preact/hooks';
import { html } from './html.js';
import { t } from './i18n.js';

const HOUR = 3_600_000;
export const PRESETS = { '1h': HOUR, '24h': 24 * HOUR, '7d': 7 * 24 * HOUR };

/** The last `preset` up to now. */
export function presetRange(preset, now = Date.now()) {
  return { preset, from: new Date(now - PRESETS[preset]).toISOString(), to: new Date(now).toISOString() };
}

/** The period of the same length just before `range` (to tell whether a rate jumped). */
export function previousRange(range) {
  const from = Date.parse(range.from);
  const span = Date.parse(range.to) - from;
  return { from: new Date(from - span).toISOString(), to: range.from };
}

/** `YYYY-MM-DDTHH:mm` in local time, as a datetime-local input takes it. */
const localInput = (iso) => {
  const d = new Date(iso);
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 16);
};

export function RangeBar({ range, onRange }) {
  const [custom, setCustom] = useState({ from: localInput(range.from), to: localInput(range.to) });
  const [bad, setBad] = useState(false);
  const applyCustom = (e) => {
    e.preventDefault();
    const from = new Date(custom.from);
    const to = new Date(custom.to);
    const ok = !Number.isNaN(from.getTime()) && !Number.isNaN(to.getTime()) && from < to;
    setBad(!ok);
    if (ok) onRange({ preset: 'custom', from: from.toISOString(), to: to.toISOString() });
  };
  return html`
    <div class="bar" role="group" aria-label=${t('range.label')}>
      ${Object.keys(PRESETS).map(
        (p) => html`<button type="button" class=${range.preset === p ? 'chip on' : 'chip'} data-range=${p} onClick=${() => onRange(presetRange(p))}>${t(`range.${p}`)}</button>`,
      )}
      <button type="button" class=${range.preset === 'custom' ? 'chip on' : 'chip'} data-range="custom" onClick=${() => onRange({ ...range, preset: 'custom' })}>
        ${t('range.custom')}
      </button>
      ${range.preset === 'custom' &&
      html`<form class="custom" onSubmit=${applyCustom}>
        <label>${t('range.from')} <input type="datetime-local" value=${custom.from} onInput=${(e) => setCustom({ ...custom, from: e.currentTarget.value })} /></label>
        <label>${t('range.to')} <input type="datetime-local" value=${custom.to} onInput=${(e) => setCustom({ ...custom, to: e.currentTarget.value })} /></label>
        <button type="submit">${t('range.apply')}</button>
        ${bad && html`<span class="error">${t('range.bad')}</span>`}
      </form>`}
      ${range.preset !== 'custom' && html`<button type="button" class="chip" onClick=${() => onRange(presetRange(range.preset))}>${t('refresh')}</button>`}
    </div>
  `;
}

/** Choose one of the accounts the key may use (or, with `all`, every one of them). */
export function AccountPicker({ accounts, value, onChange, all = true }) {
  return html`
    <label class="picker">
      ${t('account')}
      <select value=${value ?? ''} onChange=${(e) => onChange(e.currentTarget.value || null)}>
        ${all && html`<option value="">${t('account.all')}</option>`}
        ${accounts.map((a) => html`<option value=${a}>${a}</option>`)}
      </select>
    </label>
  `;
}
