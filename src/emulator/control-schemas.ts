import { z } from 'zod';
import { RECEIPT_STATUSES } from './state';

/** Bodies of the `/_emulator` routes; validated before any control method runs. */
export const userBody = z.object({ openid: z.string().min(1).max(128), subscribed: z.boolean().optional() });
export const templateBody = z.object({
  template_id: z.string().min(1).max(128).optional(),
  title: z.string().min(1),
  content: z.string(),
  short_id: z.string().min(1).max(64).optional(),
});
export const outcomeSchema = z.union([
  z.enum([...RECEIPT_STATUSES, 'none', 'before_answer']),
  z.object({ repeat: z.number().int().min(1).max(20) }),
]);
export const outcomeBody = z.object({ openid: z.string().min(1), template_id: z.string().min(1).optional(), outcome: outcomeSchema });
export const refusalBody = z.object({ template_id: z.string().min(1), refused: z.boolean().optional() });
export const textBody = z.object({ text: z.string().min(1) });
export const keyBody = z.object({ key: z.string().min(1) });
export const sceneBody = z.object({ scene: z.string().min(1) });
const rate = z.number().min(0).max(1).optional();
export const faultsBody = z.object({
  latencyMs: z.number().int().min(0).max(60_000).optional(),
  errcodeRate: rate,
  errcode: z.number().int().optional(),
  http5xxRate: rate,
  dropRate: rate,
  paths: z.array(z.string()).optional(),
});
export const clockBody = z.object({ seconds: z.number().min(0) });
export const callbackBody = z.object({ url: z.string().regex(/^https?:\/\//) });
export const empty = z.object({}).passthrough();
