import { z } from 'zod';

/** An Official Account's (or mini program's) AppID. */
export const appid = z.string().regex(/^wx[0-9a-zA-Z]{6,32}$/, 'must be an AppID (wx…)');

/** A time as wxreach writes it (`Date.toISOString()`: UTC, milliseconds). */
export const isoTime = z.iso.datetime().describe('ISO-8601 UTC time');

/** The `Idempotency-Key` header of a single notification, and the `idempotencyKey` of a batch item. */
export const idempotencyKey = z
  .string()
  .regex(/^[\x21-\x7e]{1,200}$/, 'must be 1-200 printable ASCII characters')
  .describe('the same key with the same body returns the first answer; with another body, 409 idempotency_conflict');
