import { parseArgs } from 'node:util';

export type Spec = Record<string, { type: 'string'; default?: string } | { type: 'boolean' }>;
type Values<S extends Spec> = { [K in keyof S]: S[K]['type'] extends 'boolean' ? boolean : S[K] extends { default: string } ? string : string | undefined };

/**
 * `--name value` flags, each also settable as env BENCH_NAME (dashes → underscores; '1' turns a
 * boolean on); flags win. `--help` prints `help` and exits.
 */
export function benchArgs<S extends Spec>(help: string, spec: S): Values<S> & { int(name: keyof S & string, min?: number): number } {
  const env = (name: string) => process.env[`BENCH_${name.toUpperCase().replace(/-/g, '_')}`];
  const options: Record<string, { type: 'string' | 'boolean'; default?: string | boolean }> = { help: { type: 'boolean', default: false } };
  for (const [name, o] of Object.entries(spec)) {
    options[name] = o.type === 'boolean' ? { type: 'boolean', default: env(name) === '1' } : { type: 'string', default: env(name) ?? o.default };
    if (options[name].default === undefined) delete options[name].default;
  }
  const { values } = parseArgs({ options, strict: true });
  if (values.help) {
    console.log(help);
    process.exit(0);
  }
  const int = (name: string, min = 1): number => {
    const v = Number(values[name]);
    if (!Number.isInteger(v) || v < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${values[name]}`);
    return v;
  };
  return Object.assign(values as Values<S>, { int });
}
