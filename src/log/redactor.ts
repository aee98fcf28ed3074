/** Field names whose values are never logged, wherever they appear. */
const SECRET_KEY = /^(app_?secret|secret|access_?token|token|aes_?key|encoding_?aes_?key|api_?keys?|authorization|password)$/i;
/** Secrets carried in URLs (WeChat puts access_token and the appsecret in query strings). */
const SECRET_IN_URL = /([?&](?:secret|access_token|appsecret|token)=)[^&\s"']+/gi;
const BEARER = /(Bearer\s+)[A-Za-z0-9._~+/=-]+/g;
const MAX_DEPTH = 6;
const MIN_SECRET_LENGTH = 6;

export const REDACTED = '[REDACTED]';

/**
 * Scrubs secrets out of anything about to be logged: by field name, inside URLs, and by value
 * (the configured appsecret, AES key, API keys and every access token seen), so a secret that
 * slipped into an error message is still caught. Builds copies; never mutates the caller's objects.
 */
export class Redactor {
  private readonly values = new Set<string>();

  /** Registers a secret value to be replaced wherever it appears (values under 6 chars are ignored as too generic). */
  add(value: string | null | undefined): void {
    if (value && value.length >= MIN_SECRET_LENGTH) this.values.add(value);
  }

  text(input: string): string {
    // most text logged has neither a query parameter nor a bearer token: no regex run for it
    let out = input.includes('=') ? input.replace(SECRET_IN_URL, `$1${REDACTED}`) : input;
    if (out.includes('Bearer')) out = out.replace(BEARER, `$1${REDACTED}`);
    if (out.length < MIN_SECRET_LENGTH) return out;
    for (const v of this.values) if (out.includes(v)) out = out.split(v).join(REDACTED);
    return out;
  }

  value(input: unknown, depth = 0): unknown {
    if (typeof input === 'string') return this.text(input);
    if (typeof input === 'bigint') return String(input); // a msgid as a bigint stays exact for any JSON reader
    if (input === null || typeof input !== 'object') return input;
    if (depth >= MAX_DEPTH) return '[…]';
    if (input instanceof Error) {
      const code = (input as { code?: unknown }).code;
      return { name: input.name, message: this.text(input.message), ...(code === undefined ? {} : { code }) };
    }
    if (Array.isArray(input)) return input.map((v) => this.value(v, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(input)) out[k] = SECRET_KEY.test(k) ? REDACTED : this.value(v, depth + 1);
    return out;
  }
}
