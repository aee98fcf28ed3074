// Numbers, times and rates as the console shows them.
import { lang } from './i18n.js';

const locale = lang === 'zh' ? 'zh-CN' : 'en-GB';
const numbers = new Intl.NumberFormat(locale);
const times = new Intl.DateTimeFormat(locale, { dateStyle: 'short', timeStyle: 'medium' });

export const num = (n) => (n === undefined || n === null ? '—' : numbers.format(n));
export const when = (iso) => (iso ? times.format(new Date(iso)) : '—');
export const percent = (rate) => (rate === null || rate === undefined ? '—' : `${(rate * 100).toFixed(rate < 0.1 ? 1 : 0)}%`);
export const ms = (n) => (n === null || n === undefined ? '—' : n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${Math.round(n)} ms`);

/** The sum of the counters whose name starts with `prefix` (e.g. every `failed.<reason>`). */
export function sumPrefix(counts, prefix) {
  return Object.entries(counts ?? {}).reduce((sum, [k, v]) => (k.startsWith(prefix) ? sum + v : sum), 0);
}

/** The share of `part` in `whole`; null when there is no whole. */
export const rate = (part, whole) => (whole > 0 ? part / whole : null);
