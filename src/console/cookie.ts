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
 * Whether the browser reached us over https: directly, or through a proxy that says so. The proxy's
 * header is taken on trust here because all it can do is make the cookie stricter (Secure).
 */
const overHttps = (req: Request) => req.secure || (req.get('x-forwarded-proto') ?? '').split(',')[0].trim().toLowerCase() === 'https';

/**
 * Sets (or, with `maxAgeSeconds` 0, clears) the session cookie: not readable by scripts, never sent
 * by another site's requests, Secure when the request came over https.
 */
export function writeSessionCookie(req: Request, res: Response, value: string, maxAgeSeconds: number): void {
  const attributes = [`${SESSION_COOKIE}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${maxAgeSeconds}`, ...(overHttps(req) ? ['Secure'] : [])];
  res.append('Set-Cookie', attributes.join('; '));
}
