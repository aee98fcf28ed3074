import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../config/project-root';

export interface Asset {
  body: Buffer;
  type: string;
}

export interface ConsoleAssets {
  /** A digest of every file: part of the asset URLs, so they can be cached for good. */
  version: string;
  /** By file name under the assets URL (`preact.module.js`, `pages/overview.js`…). */
  files: ReadonlyMap<string, Asset>;
  /** Bare module names the page scripts import, and their file names (the page's import map). */
  modules: Readonly<Record<string, string>>;
}

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

/**
 * A file of an installed package, found from the package's own entry point (their `exports` do
 * not expose the browser builds), so it works from src/, from dist/ and from an installed copy.
 */
const packageFile = (entry: string, file: string) => path.join(path.dirname(require.resolve(entry)), file);

/** The browser builds of the libraries, as ES modules; no CDN: everything comes from this server. */
const LIBRARIES: ReadonlyArray<{ module?: string; name: string; file: () => string }> = [
  { module: 'preact', name: 'preact.module.js', file: () => packageFile('preact', 'preact.module.js') },
  { module: 'preact/hooks', name: 'hooks.module.js', file: () => packageFile('preact/hooks', 'hooks.module.js') },
  { module: 'htm', name: 'htm.module.js', file: () => packageFile('htm', 'htm.module.js') },
  { module: 'uplot', name: 'uPlot.esm.js', file: () => packageFile('uplot', 'uPlot.esm.js') },
  { name: 'uPlot.min.css', file: () => packageFile('uplot', 'uPlot.min.css') },
];

/**
 * The console's own scripts and styles are plain browser files kept in the source tree (tsc does
 * not copy them), read from there whether wxreach runs from src/ or from dist/.
 */
const PUBLIC_DIR = path.join(projectRoot(), 'src', 'console', 'public');

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(path.join(dir, e.name), `${prefix}${e.name}/`) : Object.hasOwn(TYPES, path.extname(e.name)) ? [`${prefix}${e.name}`] : [],
  );
}

/** Reads every asset once, at start-up (about 150 KB): only these names are ever served. */
export function loadConsoleAssets(publicDir: string = PUBLIC_DIR): ConsoleAssets {
  const files = new Map<string, Asset>();
  const add = (name: string, file: string) => files.set(name, { body: readFileSync(file), type: TYPES[path.extname(name)] });
  for (const lib of LIBRARIES) add(lib.name, lib.file());
  for (const name of listFiles(publicDir)) add(name, path.join(publicDir, name));
  const digest = createHash('sha256');
  for (const [name, asset] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) digest.update(name).update('\0').update(asset.body);
  const modules = Object.fromEntries(LIBRARIES.filter((l) => l.module).map((l) => [l.module as string, l.name]));
  return { version: digest.digest('hex').slice(0, 12), files, modules };
}
