import type { Fields, HistoryEntry, KeywordData, StoredRecord } from './store';

/**
 * A record's shape in Redis: one hash that holds its fields and its history, small enough for
 * Redis to keep it as a listpack (every field and value at most 64 bytes, Redis' default
 * hash-max-listpack-value; one longer value turns the whole hash into a hashtable, about twice the
 * memory, and breaks nothing).
 *
 * - The record's own fields, as given, except `data` (the template data, JSON of
 *   `{"<keyword>": {"value": …, "color"?: …}}`): each keyword's value is a field of its own,
 *   `~<p><keyword>`, its colour `~<p>` (p: the keyword's place, a letter A-Z a-z), so that no value
 *   is wrapped in JSON and each stays short. Data that would not read back exactly so (other
 *   shapes, an empty keyword, more than 52 keywords) is kept whole in `data`.
 * - The history: line k in field `~<k>`, `~` the number of such fields (see scripts/history.ts for
 *   the slots; a line longer than a slot goes on in the next ones). A line is compact: the time as
 *   base-36 epoch ms, one capital letter for the status, then the WeChat call and `\x1f` when there
 *   was one, then the detail as JSON string text with frequent phrases as one control character
 *   each. A line that does not fit that form (an unusual status or time) is stored as JSON, as is a
 *   note a script writes; `decodeLine` reads both.
 * - `createdAt`, when it is the first line's time, is not stored: that line starts with `*`.
 *
 * Fields whose names start with `~` are this codec's: a caller's field may not.
 *
 * Records written before this shape (a hashtable with `data` as JSON, the history in a list of
 * JSON lines beside the hash) are read as they are, and their moves keep adding to that list.
 */

/** The first character of every field name of the codec's own. */
const OWN = '~';

/** Separates a line's WeChat call from its detail (JSON string text never holds a control character). */
const CALL_END = '\x1f';

/** The lifecycle's statuses as one letter each (any other status makes the line JSON). */
const STATUS_LETTERS: Readonly<Record<string, string>> = {
  queued: 'Q',
  awaiting_receipt: 'A',
  fallback_pending: 'P',
  awaiting_interaction: 'I',
  delivered: 'D',
  fallback_sent: 'S',
  failed: 'F',
};
const STATUS_OF_LETTER = new Map(Object.entries(STATUS_LETTERS).map(([status, letter]) => [letter, status]));

/**
 * Frequent parts of the history lines wxreach writes (the template and fallback paths), each
 * stored as one control character (code 1 for the first). Compression only: any text reads back
 * exactly, a phrase missing here only costs bytes. Stored lines refer to these codes: add new
 * phrases at the end, never change or reorder one (30 at most: codes 1 to 30).
 */
const PHRASES = [
  'accepted',
  'template ',
  ' accepted, msgid ',
  '; the user sees it cut: ',
  'first is not shown by WeChat since 2023',
  'remark is not shown by WeChat since 2023',
  ' is not shown by WeChat since 2023',
  ' is cut to 20 characters (',
  ' given)',
  'receipt for msgid ',
  ': success',
  ': failed:user block',
  ': failed: system failed',
  'template path failed: ',
  'no receipt within ',
  ': assumed delivered',
  'customer-service text accepted',
  'customer-service window closed (known), no call',
  'window_closed: errcode 45015',
  'window_quota_used: errcode 45047',
  '; kept until the user interacts',
  ': sending through customer service',
  'the user interacted',
  'the window opened meanwhile',
  "sent as the passive reply to the user's interaction",
  'the user did not interact in time',
  'customer-service send: ',
  '; waiting for WeChat',
  'transient: errcode ',
  'errcode ',
] as const;

/** A phrase as it appears in a line: in JSON string text, as the detail is kept. */
const PHRASE_TEXT = PHRASES.map((p) => JSON.stringify(p).slice(1, -1));
const CODES = PHRASE_TEXT.map((_, i) => String.fromCharCode(i + 1));
const PHRASE_CODE = new Map(PHRASE_TEXT.map((text, i) => [text, CODES[i]]));
/** Every phrase, the longest first, so that the longest one matching at a place is taken. */
const PHRASE_PATTERN = new RegExp(
  [...PHRASE_TEXT].sort((a, b) => b.length - a.length).map((text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'),
  'g',
);
const CODE_PATTERN = new RegExp(`[${CODES.join('')}]`, 'g');

/** A call with a control character is kept in a JSON line (the compact one ends the call at one). */
const CONTROL = /\p{Cc}/u;
/** Redis keeps text as UTF-8, where a lone surrogate becomes U+FFFD: such text is kept JSON-escaped. */
const storable = (text: string) => text.isWellFormed();

/** A history entry as one stored line (see the module comment). */
export function encodeLine(entry: HistoryEntry): string {
  const { at, status, detail, call, ...rest } = entry;
  const ms = Date.parse(at);
  const letter = Object.hasOwn(STATUS_LETTERS, status) ? STATUS_LETTERS[status] : undefined;
  const compact =
    letter !== undefined &&
    ms >= 0 &&
    new Date(ms).toISOString() === at &&
    typeof detail === 'string' &&
    Object.keys(rest).length === 0 &&
    (call === undefined || (typeof call === 'string' && !CONTROL.test(call) && storable(call)));
  if (!compact) return JSON.stringify(entry);
  const text = JSON.stringify(detail).slice(1, -1).replace(PHRASE_PATTERN, (phrase) => PHRASE_CODE.get(phrase)!);
  return `${ms.toString(36)}${letter}${call === undefined ? '' : call + CALL_END}${text}`;
}

const COMPACT_HEAD = /^\*?([0-9a-z]+)([A-Z])/;

/** Marks the first line of a record whose `createdAt` is that line's time. */
const CREATED_THEN = '*';

/** A stored line back as the entry it was: compact, or JSON (older records, notes written by a script). */
export function decodeLine(line: string): HistoryEntry {
  if (line.startsWith('{')) return JSON.parse(line) as HistoryEntry;
  const head = COMPACT_HEAD.exec(line);
  const status = head ? STATUS_OF_LETTER.get(head[2]) : undefined;
  if (!head || status === undefined) throw new Error(`unreadable history line ${JSON.stringify(line.slice(0, 40))}`);
  let text = line.slice(head[0].length);
  const callEnd = text.indexOf(CALL_END);
  const call = callEnd < 0 ? undefined : text.slice(0, callEnd);
  if (call !== undefined) text = text.slice(callEnd + 1);
  const at = new Date(parseInt(head[1], 36)).toISOString();
  const detail = JSON.parse(`"${text.replace(CODE_PATTERN, (code) => PHRASE_TEXT[code.charCodeAt(0) - 1])}"`) as string;
  return call === undefined ? { at, status, detail } : { at, status, detail, call };
}

/**
 * A history as an event keeps it (scripts/history.ts): stored lines, or, in events written before
 * the compact lines, the entries themselves.
 */
export function decodeHistory(lines: readonly unknown[]): HistoryEntry[] {
  return lines.map((line) => (typeof line === 'string' ? decodeLine(line) : (line as HistoryEntry)));
}

/** Throws for field names that are the codec's own (a caller's field, a set or a condition). */
export function checkFieldNames(fields: Fields): void {
  for (const name in fields) {
    if (name.startsWith(OWN)) throw new TypeError(`record field "${name}": names starting with "${OWN}" are the store's own`);
  }
}

/** A keyword's place in the data as a letter (the field names of slots are digits). */
const PLACES = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** The field names of keywords made so far, per place (each record of a template has the same: one string each, not one per record). */
const KEYWORD_FIELDS = Array.from({ length: PLACES.length }, () => new Map<string, string>());
/** Field names kept per place at most (a deployment's templates have a few dozen keywords). */
const KEYWORD_FIELDS_KEPT = 1000;

/** `~<p>` per place: the field of the colour of the keyword there, and the start of its own field. */
const COLOUR_FIELDS = Array.from(PLACES, (place) => `${OWN}${place}`);

/** The field of keyword `name` at place `i`: `~<p><name>`. */
function keywordField(i: number, name: string): string {
  const kept = KEYWORD_FIELDS[i];
  let field = kept.get(name);
  if (field === undefined) {
    field = `${COLOUR_FIELDS[i]}${name}`;
    if (kept.size < KEYWORD_FIELDS_KEPT) kept.set(name, field);
  }
  return field;
}

/** Text with an escape or a control character (C0, which a JSON string escapes, or C1): the general path's. */
const ESCAPED = /[\\\p{Cc}]/u;
/**
 * One keyword as JSON.stringify writes it, then `,` or the data's closing `}`. A name starting with a
 * digit is left to the general path: JSON orders names that are array indexes ("1") first.
 */
const KEYWORD = /"([^"0-9][^"]*)":\{"value":"([^"]*)"(?:,"color":"([^"]*)")?\}(,|\}$)/y;

/**
 * The template data's keywords as `~<p>…` fields, or null when they would not read back exactly as
 * `json`. Data as wxreach writes it (JSON.stringify of keywords without escapes) is read with one
 * pattern, without parsing it and writing it again to compare (about 1.4 against 3.3 µs a notice);
 * any other text takes the general path, which decides alike.
 */
function dataFields(json: string): string[] | null {
  if (json.charCodeAt(0) !== 0x7b || ESCAPED.test(json) || !storable(json)) return parsedDataFields(json);
  const flat: string[] = [];
  const names = new Set<string>();
  KEYWORD.lastIndex = 1;
  for (let i = 0; ; i++) {
    const keyword = KEYWORD.exec(json);
    // a name twice is data JSON.parse would keep once: the general path refuses it
    if (keyword === null || i === PLACES.length || names.has(keyword[1])) return parsedDataFields(json);
    const [, name, value, color, end] = keyword;
    names.add(name);
    flat.push(keywordField(i, name), value);
    if (color !== undefined) flat.push(COLOUR_FIELDS[i], color);
    if (end === '}') return flat;
  }
}

/** dataFields for any text: parsed, checked, and written again to compare. */
function parsedDataFields(json: string): string[] | null {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    return null;
  }
  const flat = objectDataFields(data);
  // with the keys checked, joinData writes what JSON.stringify writes: other text for the same data is kept whole
  return flat !== null && JSON.stringify(data) === json ? flat : null;
}

/**
 * The keyword fields of data given as an object (NewRecord.data, or parsed), or null when they
 * would not read back as JSON.stringify writes it.
 */
function objectDataFields(data: unknown): string[] | null {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return null;
  const names = Object.keys(data);
  if (names.length > PLACES.length) return null;
  const flat: string[] = [];
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const field = (data as Record<string, unknown>)[name];
    if (typeof field !== 'object' || field === null || name === '' || !storable(name)) return null;
    // joinData writes `value`, then `color` if any: other keys, or another order, would not read back
    const keys = Object.keys(field);
    const { value, color } = field as { value?: unknown; color?: unknown };
    if (keys[0] !== 'value' || typeof value !== 'string' || !storable(value)) return null;
    flat.push(keywordField(i, name), value);
    if (keys.length === 1) continue;
    if (keys.length > 2 || keys[1] !== 'color' || typeof color !== 'string' || !storable(color)) return null;
    flat.push(COLOUR_FIELDS[i], color);
  }
  return flat;
}

/** `data` JSON again from its keyword fields (field, value, ... in any order). */
function joinData(flat: readonly string[]): string {
  const keywords: Array<{ name: string; value: string; color?: string }> = [];
  for (let i = 0; i < flat.length; i += 2) {
    const field = flat[i];
    const value = flat[i + 1];
    const place = PLACES.indexOf(field[1]);
    keywords[place] ??= { name: '', value: '' };
    if (field.length > 2) Object.assign(keywords[place], { name: field.slice(2), value });
    else keywords[place].color = value;
  }
  return `{${keywords
    .map(({ name, value, color }) => `${JSON.stringify(name)}:${JSON.stringify(color === undefined ? { value } : { value, color })}`)
    .join(',')}}`;
}

/** A new record's first history line, and the `createdAt` its time stands for (null: none, the line is JSON). */
export interface FirstLine {
  line: string;
  createdAt: string | null;
}

/** `first` as the first line of new records (records created together often share it: it is encoded once). */
export function firstLine(first: HistoryEntry): FirstLine {
  const line = encodeLine(first);
  return { line, createdAt: line.startsWith('{') ? null : String(Date.parse(first.at)) };
}

/**
 * A new record (field names checked by checkFieldNames): its fields as HSET arguments (field,
 * value, ...) appended to `to`, and its first history line (`first` from firstLine). `data`: the
 * `data` field as an object (NewRecord.data), split as its JSON would be.
 */
export function newRecordShape(fields: Fields, first: FirstLine, to: unknown[], data?: KeywordData): string {
  const createdThen = first.createdAt !== null && fields.createdAt === first.createdAt;
  for (const field in fields) {
    const split = field === 'data' ? dataFields(fields.data) : null;
    if (split) for (const part of split) to.push(part);
    else if (!(createdThen && field === 'createdAt')) to.push(field, fields[field]);
  }
  if (data !== undefined) {
    const split = objectDataFields(data);
    if (split) for (const part of split) to.push(part);
    else to.push('data', JSON.stringify(data));
  }
  return createdThen ? CREATED_THEN + first.line : first.line;
}

/**
 * A record read back: its hash (flat field, value, ...) and its history lines (from the hash or
 * the older list, as scripts/history.ts gathers them); null when the record is not there.
 */
export function decodeRecord(flat: readonly string[], lines: readonly string[]): StoredRecord | null {
  const fields: Fields = {};
  const data: string[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    const field = flat[i];
    if (!field.startsWith(OWN)) fields[field] = flat[i + 1];
    else if (field.length > 1 && PLACES.includes(field[1])) data.push(field, flat[i + 1]);
  }
  if (fields.status === undefined) return null;
  // a `data` field wins: kept whole, or written by an older version
  if (data.length > 0 && fields.data === undefined) fields.data = joinData(data);
  const history = lines.map(decodeLine);
  if (lines[0]?.startsWith(CREATED_THEN)) fields.createdAt = String(Date.parse(history[0].at));
  return { fields, history };
}
