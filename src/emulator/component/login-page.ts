import type { ServerResponse } from 'node:http';
import type { Component } from './component';

export const LOGIN_PAGE_PATH = '/cgi-bin/componentloginpage';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

function page(res: ServerResponse, status: number, body: string): void {
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>Authorise a third-party platform (emulated)</title></head><body>${body}</body></html>`;
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) });
  res.end(html);
}

/**
 * GET /cgi-bin/componentloginpage?component_appid=…&pre_auth_code=…&redirect_uri=…&auth_type=…[&biz_appid=…]:
 * the page where a merchant authorises the component. With `biz_appid` (a merchant of the
 * emulator) it consents as that merchant at once: the `authorized` event is pushed and the browser
 * is sent (302) to `redirect_uri?auth_code=…&expires_in=600`. Without it, a page with one consent
 * link per merchant. Bad links get a 400 page saying why.
 */
export function serveLoginPage(c: Component, query: URLSearchParams, res: ServerResponse): void {
  c.count(LOGIN_PAGE_PATH);
  const preAuthCode = query.get('pre_auth_code') ?? '';
  const redirectUri = query.get('redirect_uri') ?? '';
  const session = c.preAuthCodes.peek(preAuthCode);
  const problem =
    query.get('component_appid') !== c.appId ? 'component_appid is not this platform'
    : !session ? 'pre_auth_code is unknown, used up or expired'
    : !/^https?:\/\//.test(redirectUri) ? 'redirect_uri must be an http(s) URL'
    : !/^[1-8]$/.test(query.get('auth_type') ?? '') ? 'auth_type must be 1 to 8'
    : undefined;
  if (problem || !session) return page(res, 400, `<p>${escapeHtml(problem ?? '')}</p>`);
  // Remembered so a consent given through the control API redirects the same way.
  session.redirectUri = redirectUri;
  const bizAppid = query.get('biz_appid');
  if (bizAppid === null) {
    const links = [...c.merchantAppIds()].map((appid) => {
      const consent = new URLSearchParams(query);
      consent.set('biz_appid', appid);
      return `<li><a href="${escapeHtml(`?${consent.toString()}`)}">Authorise as ${escapeHtml(appid)}</a></li>`;
    });
    return page(res, 200, `<h1>Authorise ${escapeHtml(c.appId)}</h1><ul>${links.join('')}</ul>`);
  }
  const merchant = c.merchant(bizAppid);
  if (!merchant) return page(res, 400, `<p>${escapeHtml(bizAppid)} is not a merchant of this emulator</p>`);
  const { redirectUrl } = c.authorize(merchant, { preAuthCode, redirectUri });
  res.writeHead(302, { location: redirectUrl ?? redirectUri, 'content-length': 0 });
  res.end();
}
