import { z } from 'zod';
import { TEXT_LIMIT_BYTES } from '../delivery/fallback-text';

const fieldValue = z.union([
  z.string().max(1000),
  z.object({ value: z.string().max(1000), color: z.string().regex(/^#[0-9A-Fa-f]{6}$/, 'must be #RRGGBB').optional() }).strict(),
]);

/** POST /v1/notifications body (DESIGN.md "Interfaces"). */
export const notificationBody = z
  .object({
    openid: z.string().regex(/^[A-Za-z0-9_-]{6,64}$/, 'must be an OpenID (6-64 letters, digits, _ or -)'),
    template: z.string().min(1).max(128),
    data: z
      .record(z.string().regex(/^[A-Za-z0-9_]{1,32}$/, 'field names: letters, digits and _'), fieldValue)
      .refine((d) => Object.keys(d).length > 0, 'must have at least one field')
      .refine((d) => Object.keys(d).length <= 50, 'at most 50 fields'),
    url: z.url({ protocol: /^https?$/ }).max(1024).optional(),
    miniprogram: z.object({ appid: z.string().regex(/^wx[0-9a-zA-Z]{6,32}$/, 'must be a mini program AppID'), pagepath: z.string().min(1).max(1024) }).strict().optional(),
    fallbackText: z
      .string()
      .min(1)
      .refine((t) => Buffer.byteLength(t, 'utf8') <= TEXT_LIMIT_BYTES, `at most ${TEXT_LIMIT_BYTES} bytes of UTF-8`)
      .optional(),
  })
  .strict();

export type NotificationBody = z.infer<typeof notificationBody>;

/** zod issues as field-level details: [{ field: "data.amount", message }]. */
export function fieldErrors(error: z.ZodError): Array<{ field: string; message: string }> {
  return error.issues.map((i) => ({ field: i.path.map(String).join('.') || '(body)', message: i.message }));
}
