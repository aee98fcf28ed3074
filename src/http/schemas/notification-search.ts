import { z } from 'zod';
import type { SearchPosition } from '../../store/store';
import { appid } from './common';
import { notificationView } from './notifications';

/** A search page's `next`: where it ended, opaque to clients (base64url of JSON). */
export const encodeCursor = (p: SearchPosition): string => Buffer.from(JSON.stringify([p.score, p.id])).toString('base64url');

function decodeCursor(cursor: string): SearchPosition | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && Number.isFinite(value[0]) && typeof value[1] === 'string') return { score: value[0] as number, id: value[1] };
  } catch {
    // not JSON: refused below
  }
  return null;
}

/** GET /v1/notifications?…: exactly one of `openid`, `status=awaiting_interaction`, `field` with `value`. */
export const notificationSearchQuery = z
  .object({
    account: appid.optional().describe('required when the key can use more than one account'),
    openid: z.string().regex(/^[A-Za-z0-9_-]{6,64}$/, 'must be an OpenID').optional().describe("the user's notifications, newest first"),
    status: z.literal('awaiting_interaction').optional().describe('the parked notifications, the soonest expiry first (each with `parkedUntil`)'),
    field: z.string().regex(/^[A-Za-z0-9_]{1,32}$/, 'field names: letters, digits and _').optional().describe("a business data field listed in the config's `searchFields`"),
    value: z.string().min(1).max(1000).optional().describe('with `field`: notifications whose field had this value, newest first'),
    limit: z.coerce.number().int().min(1).max(100).default(50).describe('notifications per page'),
    after: z
      .string()
      .max(200)
      .transform((cursor, ctx) => {
        const position = decodeCursor(cursor);
        if (position === null) ctx.addIssue({ code: 'custom', message: "not a cursor: pass a page's `next` as it came" });
        return position as SearchPosition;
      })
      .optional()
      .describe("the previous page's `next`"),
  })
  .strict()
  .refine((q) => [q.openid !== undefined, q.status !== undefined, q.field !== undefined || q.value !== undefined].filter(Boolean).length === 1, {
    message: 'give exactly one of openid, status=awaiting_interaction, or field with value',
    path: ['openid'],
  })
  .refine((q) => (q.field === undefined) === (q.value === undefined), { message: 'field and value go together', path: ['value'] });

export const notificationSearchAnswer = z.object({
  items: z.array(notificationView),
  next: z.string().nullable().describe('pass as `after` for the next page; null when there is no more (a page may be short and still have a next)'),
});
