import { z } from 'zod';
import { AddressGuard } from './address-guard';
import { WEBHOOK_EVENT_TYPES } from './event-types';
import { secretKey } from './signature';

/** The config's `webhooks` block (`appId` is the config's own rule for appids). */
export const webhooksSchema = (appId: z.ZodString) =>
  z
    .object({
      /** Also http, and private, loopback and link-local addresses (tests, the demo, the operator's own network). */
      allowPrivate: z.boolean(),
      endpoints: z.array(
        z
          .object({
            url: z.url({ protocol: /^https?$/ }),
            secret: z.string().refine((s) => secretKey(s) !== null, 'must be whsec_ + base64 of 24 to 64 random bytes'),
            /** Only these event types (default: all). */
            events: z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1).optional(),
            /** Only these accounts' events (default: all). */
            accounts: z.array(appId).min(1).optional(),
          })
          .strict(),
      ),
    })
    .strict()
    .superRefine((w, ctx) => {
      w.endpoints.forEach((e, i) => {
        try {
          new AddressGuard(w.allowPrivate).parse(e.url);
        } catch {
          // the guard's message names the host: a config error never shows a value
          const rule = w.allowPrivate ? 'must be an http or https URL without credentials' : 'must be an https URL of a public address, without credentials (or set webhooks.allowPrivate)';
          ctx.addIssue({ code: 'custom', path: ['endpoints', i, 'url'], message: rule });
        }
        if (w.endpoints.findIndex((o) => o.url === e.url) < i) ctx.addIssue({ code: 'custom', path: ['endpoints', i, 'url'], message: 'listed twice' });
      });
    });
