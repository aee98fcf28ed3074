import { parseStringPromise } from 'xml2js';
import { parseFlatXml } from './flat-xml';

export class XmlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XmlError';
  }
}

/** The flat text fields of a WeChat XML packet (`<xml><A>..</A><B>..</B></xml>`). */
export type XmlFields = Readonly<Record<string, string>>;

/**
 * Parses a WeChat XML packet into its top-level text fields: the flat shape WeChat posts by the
 * small strict parser (no second pass over the body), anything else by xml2js (strict, via sax),
 * which never expands DTD entities, so entity bombs and XXE fail as "invalid character entity".
 * Nested elements (e.g. ScanCodeInfo) are skipped; repeated fields are rejected because WeChat
 * never repeats one and an attacker might.
 */
export async function parseXml(body: string): Promise<XmlFields> {
  return parseFlatXml(body) ?? parseAnyXml(body);
}

async function parseAnyXml(body: string): Promise<XmlFields> {
  let parsed: unknown;
  try {
    parsed = await parseStringPromise(body, { explicitArray: false, explicitRoot: false, trim: true });
  } catch (err) {
    throw new XmlError(`malformed XML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new XmlError('XML has no <xml> element with fields');
  }
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed)) {
    // xml2js also yields an array for a tag named like an Object.prototype member (constructor…)
    if (Array.isArray(value)) throw new XmlError(`field ${name} is repeated or a reserved name`);
    if (typeof value === 'string') fields[name] = value;
  }
  return fields;
}

/** CDATA cannot contain "]]>"; WeChat SDKs split it across two sections. */
function cdata(text: string): string {
  return `<![CDATA[${text.replace(/]]>/g, ']]]]><![CDATA[>')}]]>`;
}

/** Renders fields as WeChat does: strings in CDATA, numbers bare, in the given order. */
export function buildXml(fields: Readonly<Record<string, string | number | bigint>>): string {
  let out = '<xml>';
  for (const [name, value] of Object.entries(fields)) {
    out += `<${name}>${typeof value === 'string' ? cdata(value) : String(value)}</${name}>`;
  }
  return `${out}</xml>`;
}
