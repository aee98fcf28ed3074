/**
 * Where known secret values (appsecrets, AES keys, server tokens, API keys…) stand in a text, found
 * anywhere, glued to other characters too. Every log line's message and fields pass through it, and
 * a service with many accounts knows three secrets per account, so a text is read once whatever
 * their number: a rolling hash of each `HEAD` characters of the text is looked up among the hashes
 * of the secrets' first `HEAD` characters, and only a match is compared in full. With few secrets,
 * `includes` on each is cheaper than that one pass, and is what runs.
 */

/** How many characters a secret has at least (shorter values are too generic to redact), and the length hashed. */
export const HEAD = 6;
/** Up to this many secrets, each is looked for with `includes`. */
const FEW = 16;
const BASE = 31;
/** BASE^(HEAD-1) in 32-bit arithmetic: what the character leaving the window weighs. */
const LEAVING = Array.from({ length: HEAD - 1 }).reduce<number>((p) => Math.imul(p, BASE), 1);

/** The hash of text[from, from + HEAD), in 32-bit arithmetic (so the window can roll on). */
function headHash(text: string, from: number): number {
  let h = 0;
  for (let i = from; i < from + HEAD; i++) h = (Math.imul(h, BASE) + text.charCodeAt(i)) | 0;
  return h;
}
/** A hash as a Map key: its low 30 bits, a small integer V8 keeps unboxed. */
const key = (h: number) => h & 0x3fffffff;

/** What `in` gives for a text without a secret (most texts): no array made for it. */
const NONE: readonly string[] = Object.freeze([]);

export class SecretFinder {
  private readonly secrets: string[] = [];
  /** The secrets by the hash of their first HEAD characters. */
  private readonly byHead = new Map<number, string[]>();

  /** Registers `secret` (at least HEAD characters; shorter ones are ignored). */
  add(secret: string): void {
    if (secret.length < HEAD) return;
    const h = key(headHash(secret, 0));
    const same = this.byHead.get(h);
    if (same?.includes(secret)) return;
    if (same) same.push(secret);
    else this.byHead.set(h, [secret]);
    this.secrets.push(secret);
  }

  /** The secrets that occur in `text`, the longest first (so one inside another is replaced whole). */
  in(text: string): readonly string[] {
    if (text.length < HEAD || this.secrets.length === 0) return NONE;
    const found = this.secrets.length <= FEW ? this.each(text) : this.scan(text);
    return found.length > 1 ? [...found].sort((a, b) => b.length - a.length) : found;
  }

  private each(text: string): readonly string[] {
    let found: string[] | undefined;
    for (const s of this.secrets) if (text.includes(s)) (found ??= []).push(s);
    return found ?? NONE;
  }

  private scan(text: string): readonly string[] {
    let found: Set<string> | undefined;
    let h = headHash(text, 0);
    for (let i = 0; ; i++) {
      const candidates = this.byHead.get(key(h));
      if (candidates) for (const s of candidates) if (text.startsWith(s, i)) (found ??= new Set()).add(s);
      if (i + HEAD >= text.length) return found ? [...found] : NONE;
      h = (Math.imul(h - Math.imul(text.charCodeAt(i), LEAVING), BASE) + text.charCodeAt(i + HEAD)) | 0;
    }
  }
}
