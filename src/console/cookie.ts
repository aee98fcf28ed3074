import type { Request, Response } from 'express';

/** The console's session cookie. */
export const SESSION_COOKIE = 'wxr_console';

/** The value of cookie `name` in the request, or null (no cookie parser needed for one cookie). */
export function readCookie(req: Request, name: string): string | null {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return null;
}

/**
 * Sets (or, with `maxAgeSeconds` 0, clears) the session cookie: not readable by scripts, never sent
 * by another site's requests, Secure when the request came over https.
 */
export function writeSessionCookie(req: Request, res: Response, value: string, maxAgeSeconds: number): void {
  const attributes = [`${SESSION_COOKIE}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${maxAgeSeconds}`, ...(req.secure ? ['Secure'] : [])];
  res.append('Set-Cookie', attributes.join('; '));
}
