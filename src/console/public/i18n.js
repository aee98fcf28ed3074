// Labels in the page's language: the server chose it (?lang=, else the browser's preference) and
// wrote it on <html lang>. One dictionary per language; a missing label falls back to English.
import en from './i18n/en.js';
import zh from './i18n/zh.js';

export const lang = document.documentElement.lang === 'zh' ? 'zh' : 'en';
const dict = lang === 'zh' ? zh : en;

/** The label `key`, with `{name}` placeholders filled from `params`. */
export function t(key, params = {}) {
  let s = dict[key] ?? en[key] ?? key;
  for (const [k, v] of Object.entries(params)) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}

/** A counter's label (`delivered`, `failed.not_follower`…); an unknown failure reason shows as it is. */
export function counterLabel(counter) {
  const known = dict[`counter.${counter}`] ?? en[`counter.${counter}`];
  if (known) return known;
  return counter.startsWith('failed.') ? t('counter.failed.other', { reason: counter.slice('failed.'.length) }) : counter;
}

/** A status's label (`fallback_sent`…). */
export const statusLabel = (status) => dict[`status.${status}`] ?? en[`status.${status}`] ?? status;
