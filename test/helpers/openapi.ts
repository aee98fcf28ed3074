import { createRequire } from 'node:module';

/**
 * ajv 8 with its JSON Schema 2020-12 build (the dialect of OpenAPI 3.1), as installed beside
 * ajv-formats: the top-level `ajv` package is version 6 (eslint's), which knows no 2020-12.
 */
const fromAjvFormats = createRequire(require.resolve('ajv-formats'));
const Ajv2020 = (fromAjvFormats('ajv/dist/2020') as { default: new (o: object) => Ajv }).default;
const addFormats = (fromAjvFormats('ajv-formats') as { default: (ajv: Ajv) => void }).default;

/** The little of ajv 8's API used here (its types are not the top-level package's). */
interface Validate {
  (value: unknown): boolean;
  errors?: Array<{ instancePath: string; message?: string; params: unknown }> | null;
}
interface Ajv {
  addSchema(schema: object, key: string): Ajv;
  compile(schema: object): Validate;
  getSchema(ref: string): Validate | undefined;
}

const DOC = 'openapi.json';

/** JSON pointer escaping of one step ("/v1/notifications" → "~1v1~1notifications"). */
const step = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** Checks values against the schemas of an OpenAPI document, its `$ref`s resolved within it. */
export class DocumentSchemas {
  private readonly ajv: Ajv;

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
