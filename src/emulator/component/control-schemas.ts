import { z } from 'zod';

/** Bodies of the `/_emulator/component` routes; validated before any control method runs. */
const httpUrl = z.string().regex(/^https?:\/\//);
export const urlBody = z.object({ url: httpUrl.nullable() });
export const failBody = z.object({ fail: z.boolean() });
export const authorizeBody = z.object({
  preAuthCode: z.string().min(1).optional(),
  redirectUri: httpUrl.optional(),
  permissionSets: z.array(z.number().int().min(1)).optional(),
});
export const releaseTestBody = z.object({ appId: z.string().min(1).optional() });
