import { existsSync } from 'node:fs';
import path from 'node:path';

/** The folder holding package.json, found from here whether running from src/ (tests) or dist/src/. */
export function projectRoot(from: string = __dirname): string {
  let dir = from;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}`);
    dir = up;
  }
  return dir;
}
