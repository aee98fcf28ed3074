import type { z } from 'zod';
import type { EmulatorControl } from './control';

export type Params = Record<string, string>;

/** One `/_emulator` route: its body schema (checked before anything runs) and the control call it makes. */
export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  pattern: string;
  schema?: z.ZodType;
  run: (c: EmulatorControl, p: Params, body: never) => unknown;
}

export const route = <T extends z.ZodType>(method: Route['method'], pattern: string, schema: T | undefined, run: (c: EmulatorControl, p: Params, body: z.infer<T>) => unknown): Route => ({
  method,
  pattern,
  schema,
  run: run as Route['run'],
});

export function ok(_: void): { ok: true } {
  return { ok: true };
}
