/**
 * A strict parser for the one shape WeChat posts: `<xml>` holding flat elements, each plain text
 * and/or CDATA sections (the encrypted envelope, receipts, messages, most events), whitespace
 * between them. It takes only that: a nested element, an attribute, a comment, a declaration, a
 * self-closing tag, a repeated or reserved name, an entity other than the five predefined ones and
 * character references, or anything malformed gives null, and the caller hands the body to the
 * general parser, which takes it or refuses it with its own error (so both parsers agree on every
 * body this one takes: see test/unit/flat-xml.test.ts). Values are trimmed, as the general
 * parser's are.
 */
export function parseFlatXml(body: string): Record<string, string> | null {
  let i = skipSpace(body, 0);
  if (!body.startsWith('<xml>', i)) return null;
  i += '<xml>'.length;
  const fields: Record<string, string> = {};
  for (;;) {
    i = skipSpace(body, i);
    if (body.startsWith('</xml>', i)) break;
    if (body.charCodeAt(i) !== LT) return null;
    const open = body.indexOf('>', i + 1);
    if (open < 0) return null;
    const name = body.slice(i + 1, open);
    if (!ELEMENT_NAME.test(name) || name in fields || RESERVED.has(name)) return null;
    i = open + 1;
    let value = '';
    for (;;) {
      if (body.startsWith(CDATA, i)) {
        const end = body.indexOf(']]>', i + CDATA.length);
        if (end < 0) return null;
        value += body.slice(i + CDATA.length, end);
        i = end + 3;
      } else if (closes(body, i, name)) {
        i += name.length + 3;
        break;
      } else {
        const next = body.indexOf('<', i);
        // another element, a comment or the end of the body: not this shape
        if (next < 0 || next === i) return null;
        const text = decodeText(body.slice(i, next));
        if (text === null) return null;
        value += text;
        i = next;
      }
    }
    fields[name] = value.trim();
  }
  return skipSpace(body, i + '</xml>'.length) === body.length ? fields : null;
}

const LT = 0x3c;
const SLASH = 0x2f;
const GT = 0x3e;
/** Names that would reach Object.prototype's members (`constructor`, `__proto__`…). */
const RESERVED: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));
const CDATA = '<![CDATA[';
const ELEMENT_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const REFERENCE = /&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-z]{2,4});/g;

/** Whether `</name>` is at `i` (compared in place: no closing tag built per element). */
function closes(body: string, i: number, name: string): boolean {
  return body.charCodeAt(i) === LT && body.charCodeAt(i + 1) === SLASH && body.startsWith(name, i + 2) && body.charCodeAt(i + 2 + name.length) === GT;
}

function skipSpace(body: string, i: number): number {
  for (;;) {
    const c = body.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
    i += 1;
  }
}

/** Text with its references decoded; null when a `&` starts anything else, or names a code point XML does not allow. */
function decodeText(text: string): string | null {
  if (!text.includes('&')) return text;
  if (text.replace(REFERENCE, '').includes('&')) return null;
  let known = true;
  const decoded = text.replace(REFERENCE, (_, ref: string) => {
    const char = ref.startsWith('#') ? fromCodePoint(ref.startsWith('#x') ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10)) : PREDEFINED[ref];
    if (char === undefined) known = false;
    return char ?? '';
  });
  return known ? decoded : null;
}

/** The character of an XML Char code point (tab, newline, return, and the printable ranges), else undefined. */
function fromCodePoint(cp: number): string | undefined {
  const allowed = cp === 0x09 || cp === 0x0a || cp === 0x0d || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
  return allowed ? String.fromCodePoint(cp) : undefined;
}
