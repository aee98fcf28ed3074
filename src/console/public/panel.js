// Small pieces every page uses: a titled section, a loading / error line, a figure tile.
import { html } from './html.js';
import { t } from './i18n.js';
import { num } from './format.js';

export function Section({ title, children, id }) {
  return html`<section class="panel" data-section=${id}>${title && html`<h2>${title}</h2>`}${children}</section>`;
}

/** What an answer that did not come says: a route missing on this server reads as "not available". */
export function Problem({ error }) {
  if (!error) return null;
  const missing = error.status === 404 && error.code === 'not_found' && /no route/.test(error.message);
  return html`<p class="error" role="alert" data-error=${error.code}>${missing ? t('unavailable') : `${t('error')}: ${error.message}`}</p>`;
}

export function Loading({ loading }) {
  return loading ? html`<p class="muted" data-loading>${t('loading')}</p>` : null;
}

/** A figure with its label; `counter` names it for readers of the page (and its tests). */
export function Tile({ label, value, counter, tone, hint }) {
  return html`<div class=${`tile ${tone ?? ''}`} data-counter=${counter} title=${hint}><span class="label">${label}</span><span class="value">${typeof value === 'number' ? num(value) : value}</span></div>`;
}

/** A table that scrolls sideways inside the page on a narrow screen, instead of widening the page. */
export function Table({ head, children, label }) {
  return html`<div class="scroll"><table aria-label=${label}><thead><tr>${head.map((c) => html`<th>${c}</th>`)}</tr></thead><tbody>${children}</tbody></table></div>`;
}
