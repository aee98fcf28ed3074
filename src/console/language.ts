/** The console's languages; English is the fallback. */
const LANGUAGES = ['zh', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];

const isLanguage = (s: unknown): s is Language => typeof s === 'string' && (LANGUAGES as readonly string[]).includes(s);

/**
 * `?lang=zh|en` wins; else the language the browser ranks highest among Chinese and English
 * (Accept-Language, `q` weights honoured, ties in the order given); else English.
 */
export function chooseLanguage(asked: unknown, acceptLanguage: string | undefined): Language {
  if (isLanguage(asked)) return asked;
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part, order) => {
      const [tag, ...params] = part.trim().toLowerCase().split(';');
      const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)).find(Boolean);
      return { base: tag.split('-')[0], q: q ? Number(q[1]) : 1, order };
    })
    .filter((l) => isLanguage(l.base) && l.q > 0)
    .sort((a, b) => b.q - a.q || a.order - b.order);
  return ranked.length > 0 ? (ranked[0].base as Language) : 'en';
}
