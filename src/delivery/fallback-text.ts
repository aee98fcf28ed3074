import { TEXT_LIMIT_BYTES } from '../wechat/text-limit';

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+)(?:\.DATA)?\s*\}\}/g;
/** Values are plain text: markup would be shown literally at best, or turned into a link at worst. */
const MARKUP = /[<>]/g;

export type FieldValues = Readonly<Record<string, string>>;

/** A URL scheme separator inside a value; U+2236 looks alike but no client makes a link of it. */
const SCHEME = /:\/\//g;

/** Line breaks and tabs: a value stays on its line (a break could fake extra lines of the sentence). */
const BREAKS = /[\t\r\n\u2028\u2029]+/g;

/**
 * Characters no reader sees but a client acts on: C0/C1 controls (NUL, ESC…, after BREAKS took
 * tab, CR and LF) and the direction marks, embeddings, overrides and isolates (U+202E shows
 * "exe.txt" as "txt.exe") plus U+FEFF. Joiners stay: emoji sequences and some scripts need them.
 */
const INVISIBLE = /[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/gu;

/**
 * A business value as inserted text: no markup (CS text renders <a href>), no working link, no
 * extra lines, nothing invisible that reorders or hides what is shown.
 */
function asText(value: string): string {
  return value
    .replace(MARKUP, (c) => (c === '<' ? '‹' : '›'))
    .replace(SCHEME, '\u2236//')
    .replace(BREAKS, ' ')
    .replace(INVISIBLE, '');
}

/** The value of a field, looked up among the values only (a pattern may name `constructor`). */
const valueOf = (values: FieldValues, name: string): string | undefined => (Object.hasOwn(values, name) ? values[name] : undefined);

/**
 * Fills `{{field}}` (config patterns) and `{{field.DATA}}` (template content) with the business
 * values and `{{url}}` with the notification's url; a missing field leaves nothing behind, and lines left with nothing but a label vanish.
 */
export function fillPattern(pattern: string, values: FieldValues, url?: string): string {
  const lines = pattern.split('\n').map((line) => {
    let used = 0;
    let filled = 0;
    const out = line.replace(PLACEHOLDER, (_m, name: string) => {
      used += 1;
      // The notification's own url (validated http/https by the API) is the one link allowed.
      if (name === 'url' && url) {
        filled += 1;
        return url;
      }
      const v = valueOf(values, name);
      if (v === undefined || v === '') return '';
      filled += 1;
      return asText(v);
    });
    return used > 0 && filled === 0 ? null : out.replace(/[ \t]+$/, '');
  });
  return lines.filter((l): l is string => l !== null).join('\n').trim();
}

/** Fields a pattern names that `values` lacks (`url` is the notification's own, never missing here). */
function missingFields(pattern: string, values: FieldValues): string[] {
  return [...pattern.matchAll(PLACEHOLDER)].map((m) => m[1]).filter((name) => name !== 'url' && !valueOf(values, name));
}

/** Last resort: one "name: value" line per field. */
export function fieldLines(values: FieldValues): string {
  return Object.entries(values)
    .filter(([name, v]) => v !== '' && name !== 'url')
    .map(([name, v]) => `${name}: ${asText(v)}`)
    .join('\n');
}

/** Cuts to at most `maxBytes` of UTF-8 without splitting a character, marking the cut with "…". */
export function truncateUtf8(text: string, maxBytes = TEXT_LIMIT_BYTES): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const ellipsis = '…';
  const budget = maxBytes - Buffer.byteLength(ellipsis, 'utf8');
  let bytes = 0;
  let out = '';
  for (const ch of text) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (bytes + size > budget) break;
    bytes += size;
    out += ch;
  }
  return out + ellipsis;
}

export interface FallbackSource {
  /** The template's `fallback` pattern from config. */
  pattern?: string;
  /** The template's own content (with {{name.DATA}}), last known from the template list. */
  templateContent?: string;
  /** The template's title, first line of a sentence built from its content. */
  templateTitle?: string;
  /** A ready text the business sent with the notification. */
  explicitText?: string;
}

/**
 * The fallback sentence: the business's own text, else the configured pattern (when every field
 * it names is there: a sentence with a hole misleads), else the template's content filled in
 * (lines of missing fields vanish), else one line per field; always within WeChat's byte limit.
 */
export function renderFallback(source: FallbackSource, values: FieldValues, url?: string): string {
  let text: string;
  if (source.explicitText) text = source.explicitText;
  else if (source.pattern && missingFields(source.pattern, values).length === 0) text = fillPattern(source.pattern, values, url);
  else if (source.templateContent) {
    const body = fillPattern(source.templateContent, values);
    text = [source.templateTitle, body, url].filter(Boolean).join('\n');
  } else text = [fieldLines(values), url].filter(Boolean).join('\n');
  return truncateUtf8(text);
}
