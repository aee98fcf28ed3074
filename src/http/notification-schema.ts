import { z } from 'zod';
import { TEXT_LIMIT_BYTES } from '../wechat/text-limit';
import { issueMessage } from '../zod-issue';
import { appid } from './schemas/common';

/**
 * Text that has a UTF-8 form: a lone UTF-16 surrogate (JSON allows the escape "\ud800") has none,
 * so Redis scripts and WeChat would refuse the notice on every try; it is refused here instead.
 * (`isWellFormed` took a batch's schema from 3.6 to 1.9 µs a notice against a /\p{Surrogate}/u test.)
 */
const wellFormed = [(s: string) => s.isWellFormed(), 'must not contain a lone UTF-16 surrogate (unpaired \\uD800-\\uDFFF)'] as const;
const text = () => z.string().refine(...wellFormed);

const fieldValue = z.union([
  text().max(1000),
  z.object({ value: text().max(1000), color: z.string().regex(/^#[0-9A-Fa-f]{6}$/, 'must be #RRGGBB').optional() }).strict(),
]);

/**
 * The notice's link: an http(s) URL with its `//`. Checked on the text zod's `z.url()` returns (the
 * parser took it; trimmed, tabs and line breaks taken out), not by z.url's `protocol` option, which
 * builds a URL object per notice to read its scheme: 1.2–1.6 against 2.5–5.7 µs a notice on the
 * 2-core machine. It refuses what that option refused, `https:example.com` included. A refinement,
 * not `.regex`: the OpenAPI document keeps `format: uri` (a pattern there would lose the `i`).
 */
const HTTP_URL = /^https?:\/\//i;

/** Names every plain object has (`__proto__`, `constructor`, `toString`…): a lookup by them finds the prototype. */
const RESERVED = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * Field names are refused when reserved, before the record sees them: zod drops an own
 * `__proto__` key (which JSON.parse creates) silently, and a refusal must name the field.
 */
const dataFields = z.preprocess(
  (input, ctx) => {
    if (typeof input === 'object' && input !== null) {
      for (const name of Object.keys(input)) {
        if (RESERVED.has(name)) ctx.addIssue({ code: 'custom', message: `"${name}" is a reserved name; choose another field name`, path: [name], input });
      }
    }
    return input;
  },
  z
    .record(z.string().regex(/^[A-Za-z0-9_]{1,32}$/, 'field names: letters, digits and _'), fieldValue)
    .refine((d) => Object.keys(d).length > 0, 'must have at least one field')
    .refine((d) => Object.keys(d).length <= 50, 'at most 50 fields'),
);

/** POST /v1/notifications body (README "API"). */
export const notificationBody = z
  .object({
    /** The Official Account's appid; required when the API key can use more than one. */
    account: appid.optional(),
    openid: z.string().regex(/^[A-Za-z0-9_-]{6,64}$/, 'must be an OpenID (6-64 letters, digits, _ or -)'),
    template: text().min(1).max(128),
    data: dataFields,
    url: z.url().max(1024).refine((u) => HTTP_URL.test(u), 'must be an http(s) URL').refine(...wellFormed).optional(),
    miniprogram: z.object({ appid: z.string().regex(/^wx[0-9a-zA-Z]{6,32}$/, 'must be a mini program AppID'), pagepath: text().min(1).max(1024) }).strict().optional(),
    fallbackText: text()
      .min(1)
      .refine((t) => Buffer.byteLength(t, 'utf8') <= TEXT_LIMIT_BYTES, `at most ${TEXT_LIMIT_BYTES} bytes of UTF-8`)
      .optional(),
  })
  .strict();

export type NotificationBody = z.infer<typeof notificationBody>;

/** zod issues as field-level details: [{ field: "data.amount", message }]. */
export function fieldErrors(error: z.ZodError): Array<{ field: string; message: string }> {
  return error.issues.map((i) => ({ field: i.path.map(String).join('.') || '(body)', message: issueMessage(i) }));
}
