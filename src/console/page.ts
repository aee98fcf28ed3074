import { createHash } from 'node:crypto';
import type { ConsoleAssets } from './assets';
import type { Language } from './language';

/** Where the console's assets are served, under the version that makes each URL cacheable for good. */
const assetsPath = (assets: ConsoleAssets) => `/console/assets/${assets.version}`;

const TITLES: Record<Language, string> = { zh: 'wxreach 控制台', en: 'wxreach console' };

export interface ConsolePage {
  html(lang: Language): string;
  /** The Content-Security-Policy the page is served with. */
  csp: string;
}

/**
 * The console's one HTML page: the import map (bare names → the packaged libraries) and the app
 * script. Scripts only from this server; the inline import map is allowed by its hash alone.
 */
export function consolePage(assets: ConsoleAssets): ConsolePage {
  const base = assetsPath(assets);
  const importMap = JSON.stringify({ imports: Object.fromEntries(Object.entries(assets.modules).map(([name, file]) => [name, `${base}/${file}`])) });
  const mapHash = createHash('sha256').update(importMap).digest('base64');
  const csp = [
    "default-src 'none'",
    `script-src 'self' 'sha256-${mapHash}'`,
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
  return {
    csp,
    html: (lang) =>
      [
        '<!doctype html>',
        `<html lang="${lang}">`,
        '<head>',
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        `<title>${TITLES[lang]}</title>`,
        `<link rel="stylesheet" href="${base}/uPlot.min.css">`,
        `<link rel="stylesheet" href="${base}/console.css">`,
        `<script type="importmap">${importMap}</script>`,
        `<script type="module" src="${base}/app.js"></script>`,
        '</head>',
        '<body><div id="app"></div><noscript>JavaScript is needed for the console.</noscript></body>',
        '</html>',
      ].join('\n'),
  };
}
