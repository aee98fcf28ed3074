import { HEAD, SecretFinder } from './secret-finder';

/** Field names whose values are never logged, wherever they appear. */
const SECRET_KEY = /^(app_?secret|secret|access_?token|token|aes_?key|encoding_?aes_?key|api_?keys?|authorization|password)$/i;
/** Secrets carried in URLs (WeChat puts access_token and the appsecret in query strings). */
const SECRET_IN_URL = /([?&](?:secret|access_token|appsecret|token)=)[^&\s"']+/gi;
const BEARER = /(Bearer\s+)[A-Za-z0-9._~+/=-]+/g;
const MAX_DEPTH = 6;
/** Shorter values are too generic to redact. */
const MIN_SECRET_LENGTH = HEAD;
/**
 * A secret with an end (an access token: WeChat honours it 7,200 s at most; a verify ticket: 12 h)
 * is redacted until a day after it, then forgotten: with many accounts, tokens arrive by the
 * thousand a day, and a platform's tickets every 10 minutes.
 */
const KEPT_AFTER_END_MS = 24 * 3600_000;
/** How often forgotten tokens leave the set. */
const SWEEP_MS = 60_000;
/**
 * What WeChat's run-time secrets are made of (access tokens; `ticket@@@…`, `refreshtoken@@@…`):
 * such a secret, given with its end, is found as a whole run of these in a text.
 */
const TOKEN_CHARS = /^[A-Za-z0-9_@-]+$/;

export const REDACTED = '[REDACTED]';

/**
 * Scrubs secrets out of anything about to be logged: by field name, inside URLs, and by value
 * (the configured appsecret, AES key, API keys and every access token seen), so a secret that
 * slipped into an error message is still caught. Builds copies; never mutates the caller's objects.
 */
export class Redactor {
  /**
   * Secrets for good (appsecrets, AES keys, server tokens, API keys…): three per account, each
   * found anywhere in a text, in one pass however many there are (SecretFinder).
   */
  private readonly values = new SecretFinder();
  /**
   * Secrets with an end (tokens, tickets; a refresh token's is Infinity), each until a day after
   * it: looked up once per run of token characters in a text (TOKEN_CHARS, at least as long as the
   * shortest), so a line costs the same however many accounts' tokens are known. A token glued to
   * other token characters is not found; WeChat's tokens travel delimited (URL parameters, JSON
   * strings), and the URL rule catches `access_token=` anyway.
   */
  private readonly ending = new Map<string, number>();
  /** Runs of token characters at least as long as the shortest token known. */
  private endingRuns: RegExp | null = null;
  private endingShortest = Infinity;
  private sweepAt = 0;

  /**
   * Registers a secret value to be replaced wherever it appears (values under 6 chars are ignored
   * as too generic); `endsAt` (epoch ms): it is worth nothing after then (an access token), or
   * Infinity for a token that never ends (a refresh token): found as a token, kept for good.
   */
  add(value: string | null | undefined, endsAt?: number): void {
    if (!value || value.length < MIN_SECRET_LENGTH) return;
    if (endsAt === undefined || !TOKEN_CHARS.test(value)) {
      this.values.add(value);
      return;
    }
    const now = Date.now();
    this.ending.set(value, Math.max(this.ending.get(value) ?? 0, endsAt + KEPT_AFTER_END_MS));
    let shortest = Math.min(this.endingShortest, value.length);
    if (now >= this.sweepAt) {
      this.sweepAt = now + SWEEP_MS;
      shortest = Infinity;
      for (const [token, until] of this.ending) {
        if (until < now) this.ending.delete(token);
        else shortest = Math.min(shortest, token.length);
      }
    }
    if (this.endingShortest !== shortest) {
      this.endingShortest = shortest;
      // none left (one that ended more than a day ago goes at once): nothing to look for
      // a run is looked for only where one begins (the lookbehind): tried from every character,
      // each run of token characters was read again from each of its characters (a line's ids)
      this.endingRuns = shortest === Infinity ? null : new RegExp(`(?<![A-Za-z0-9_@-])[A-Za-z0-9_@-]{${shortest},}`, 'g');
    }
  }

  text(input: string): string {
    // most text logged has neither a query parameter nor a bearer token: no regex run for it
    let out = input.includes('=') ? input.replace(SECRET_IN_URL, `$1${REDACTED}`) : input;
    if (out.includes('Bearer')) out = out.replace(BEARER, `$1${REDACTED}`);
    if (out.length < MIN_SECRET_LENGTH) return out;
    for (const v of this.values.in(out)) out = out.split(v).join(REDACTED);
    const runs = this.endingRuns;
    if (runs !== null && out.length >= this.endingShortest && out.search(runs) >= 0) out = out.replace(runs, (run) => (this.ending.has(run) ? REDACTED : run));
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
