import Ajv2020 from 'ajv/dist/2020';
import { createRequire } from 'node:module';

/** ajv 8's JSON Schema 2020-12 build (the dialect of OpenAPI 3.1); ajv-formats comes with the OpenAPI validator. */
const addFormats = (createRequire(require.resolve('ajv-formats'))('ajv-formats') as { default: (ajv: Ajv2020) => void }).default;

const DOC = 'openapi.json';

/** JSON pointer escaping of one step ("/v1/notifications" → "~1v1~1notifications"). */
const step = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** Checks values against the schemas of an OpenAPI document, its `$ref`s resolved within it. */
export class DocumentSchemas {
  private readonly ajv: Ajv2020;

  constructor(readonly doc: Record<string, unknown>) {
    // The schemas are reached through the document, whose own keys (openapi, paths…) are no
    // schema keywords: strictSchema would refuse them. The validator checks the schemas' keywords.
    this.ajv = new Ajv2020({ allErrors: true, strict: true, strictSchema: false });
    addFormats(this.ajv);
    this.ajv.addSchema(doc, DOC);
  }

  /** The problems of `value` against the schema at `pointer` (steps of the document), [] when it matches. */
  problems(steps: string[], value: unknown): string[] {
    const validate = this.ajv.getSchema(`${DOC}#/${steps.map(step).join('/')}`);
    if (!validate) throw new Error(`no schema at ${steps.join(' → ')}`);
    return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message} ${JSON.stringify(e.params)}`);
  }

  /** The problems of a webhook request of `type` against the document's `webhooks` section: its body, and each header it documents. */
  webhookProblems(type: string, body: string, headers: Record<string, string>): string[] {
    const op = ((this.doc.webhooks as Json | undefined)?.[type] as Json | undefined)?.post as { parameters: Array<{ name: string }> } | undefined;
    if (!op) return [`${type} is not in the webhooks section`];
    return [
      ...this.problems(['webhooks', type, 'post', 'requestBody', 'content', 'application/json', 'schema'], JSON.parse(body)),
      ...op.parameters.flatMap((p, i) => this.problems(['webhooks', type, 'post', 'parameters', String(i), 'schema'], headers[p.name]).map((e) => `${p.name}: ${e}`)),
    ];
  }
}

type Json = Record<string, unknown>;

/** Every schema of the document (named, and inline in parameters, bodies, answers and headers), by where it is. */
export function schemasOf(doc: Json): Array<[where: string, schema: Json]> {
  const out: Array<[string, Json]> = Object.entries((doc.components as Json).schemas as Json).map(([name, s]) => [`components.schemas.${name}`, s as Json]);
  const media = (where: string, content: unknown) => {
    for (const [type, m] of Object.entries((content ?? {}) as Record<string, { schema?: Json }>)) if (m.schema) out.push([`${where} ${type}`, m.schema]);
  };
  for (const section of ['paths', 'webhooks']) {
    for (const [route, item] of Object.entries(doc[section] as Record<string, Record<string, Json>>)) {
      for (const [method, op] of Object.entries(item)) {
        const at = `${section} ${method} ${route}`;
        for (const p of (op.parameters ?? []) as Array<{ name: string; schema: Json }>) out.push([`${at} parameter ${p.name}`, p.schema]);
        media(`${at} body`, (op.requestBody as Json | undefined)?.content);
        for (const [status, answer] of Object.entries(op.responses as Record<string, { content?: unknown; headers?: Record<string, { schema: Json }> }>)) {
          media(`${at} ${status}`, answer.content);
          for (const [name, h] of Object.entries(answer.headers ?? {})) out.push([`${at} ${status} header ${name}`, h.schema]);
        }
      }
    }
  }
  return out;
}

/**
 * What is wrong with the document's schemas as JSON Schema 2020-12: the meta-schema's objections
 * and, in strict mode, keywords the dialect does not have. (The OpenAPI validator accepts any
 * object as a schema.) The named schemas are added once under an id their `$ref`s are turned to.
 */
export function schemaProblems(doc: Json): string[] {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormats(ajv);
  const named = (doc.components as Json).schemas as Json;
  const local = (schema: unknown) => JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', '"https://wxreach.test/named.json#/$defs/')) as Json;
  const problems: string[] = [];
  const attempt = (where: string, compile: () => void) => {
    try {
      compile();
    } catch (err) {
      problems.push(`${where}: ${(err as Error).message}`);
    }
  };
  attempt('components.schemas', () => ajv.addSchema({ $id: 'https://wxreach.test/named.json', $defs: local(named) }, 'https://wxreach.test/named.json'));
  if (problems.length > 0) return problems;
  for (const [where, schema] of schemasOf(doc)) {
    const name = Object.keys(named).find((n) => named[n] === schema);
    attempt(where, () => ajv.compile(name ? { $ref: `https://wxreach.test/named.json#/$defs/${name}` } : local(schema)));
  }
  return problems;
}

/** One answer of the service: its status, body (parsed when JSON) and headers. */
export interface Answer {
  status: number;
  text: string;
  body: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON answers read field by field
  headers: Headers;
}

/** How a call is made. */
export interface Call {
  /** null: no Authorization header; undefined: the default key. */
  key?: string | null;
  json?: unknown;
  /** A body sent as is, with `type` as its content type. */
  raw?: string;
  type?: string;
  headers?: Record<string, string>;
}

/**
 * Calls a running service and checks each real answer against the document: its status must be
 * listed for the route, and its body must match that answer's schema (jest's expect says which).
 */
export class CheckedCalls {
  /** `METHOD /template status` of every answer checked. */
  readonly checked = new Set<string>();
  private readonly schemas: DocumentSchemas;

  constructor(
    private readonly doc: Json,
    private readonly baseUrl: () => string,
    private readonly defaultKey: string,
  ) {
    this.schemas = new DocumentSchemas(doc);
  }

  async call(method: string, path: string, o: Call = {}): Promise<Answer> {
    const key = o.key === undefined ? this.defaultKey : o.key;
    const type = o.json !== undefined ? 'application/json' : o.type;
    const res = await fetch(`${this.baseUrl()}${path}`, {
      method,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(type ? { 'content-type': type } : {}), ...o.headers },
      body: o.json !== undefined ? JSON.stringify(o.json) : o.raw,
    });
    const text = await res.text();
    return { status: res.status, text, body: (text.startsWith('{') ? JSON.parse(text) : {}) as Answer['body'], headers: res.headers };
  }

  /** Calls the route of `template` at `path` and checks the answer against the document. */
  async check(method: string, template: string, path: string, o: Call = {}): Promise<Answer> {
    const a = await this.call(method, path, o);
    const m = method.toLowerCase();
    const paths = this.doc.paths as Record<string, Record<string, { responses: Record<string, Json> }> | undefined>;
    const answer = paths[template]?.[m]?.responses[String(a.status)] as { content?: Record<string, unknown> } | undefined;
    const where = `${method} ${template} ${a.status}`;
    if (!answer) throw new Error(`${where} is not in the document; the answer was ${a.text}`);
    const media = answer.content?.['application/json'];
    expect([where, media ? this.schemas.problems(['paths', template, m, 'responses', String(a.status), 'content', 'application/json', 'schema'], a.body) : a.text]).toEqual([
      where,
      media ? [] : '',
    ]);
    this.checked.add(where);
    return a;
  }
}
