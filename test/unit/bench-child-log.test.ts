import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { forkServer } from '../../bench/lib/child-server';

// A bench's service logs as deployed (a line per accepted notice) to its stdout; the bench keeps its
// warn and error lines to show them, reading the rest without splitting it line by line.

it('keeps the warn and error lines among thousands of info lines, whole, however the pipe cuts them', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'wxreach-child-log-'));
  const script = path.join(dir, 'child.js');
  // the warn and error lines each written in two pieces, 50 ms apart: the bench reads a line in halves
  writeFileSync(
    script,
    `let out = '';
    for (let i = 0; i < 5000; i++) {
      const level = i === 1234 ? 'warn' : i === 4321 ? 'error' : 'info';
      out += JSON.stringify({ level, message: 'line ' + i, pad: 'x'.repeat(60) }) + '\\n';
    }
    const cuts = [out.indexOf('"warn"'), out.indexOf('"error"') + 3, out.length];
    let at = 0;
    const next = () => {
      if (cuts.length === 0) return process.send({ url: 'http://127.0.0.1:1' });
      const end = cuts.shift();
      require('node:fs').writeSync(1, out.slice(at, end));
      at = end;
      setTimeout(next, 50);
    };
    next();
    setTimeout(() => undefined, 10_000);`,
  );
  const running = await forkServer(script, {});
  try {
    const started = Date.now();
    while (running.logLines().length < 2 && Date.now() - started < 5000) await new Promise((r) => setTimeout(r, 20));
    expect(running.logLines().map((l) => JSON.parse(l).message)).toEqual(['line 1234', 'line 4321']);
  } finally {
    running.child.removeAllListeners('exit'); // forkServer's own: a child gone mid-bench ends the bench
    running.child.kill();
  }
});
