import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SERVICE_NODE_FLAGS } from '../../src/node-flags';

describe('the Node.js flags wxreach runs with', () => {
  it('are passed to node by `npm start`', () => {
    const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const start = pkg.scripts.start;
    const node = / node ((?:--\S+ )*)dist\/src\/main\.js$/.exec(start);
    expect(node).not.toBeNull();
    expect(node![1].trim().split(' ')).toEqual([...SERVICE_NODE_FLAGS]);
  });

  it('are taken by this Node.js (an unknown flag would stop the service from starting)', () => {
    const run = spawnSync(process.execPath, [...SERVICE_NODE_FLAGS, '-e', 'process.exit(7)'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(7);
  });
});
