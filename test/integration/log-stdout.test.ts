import { spawn } from 'node:child_process';
import path from 'node:path';

// As deployed, the log goes to stdout in gatherings of 16 KB (src/log/logger.ts): no line may be
// lost when the process ends or exits, and a line must not wait for others when few come.

const LOGGER = path.join(__dirname, '../../dist/src/log/logger.js');

/** Runs `code` in a node process of its own with `log` (wxreach's logger at info, on stdout). */
function run(code: string) {
  const child = spawn(process.execPath, ['-e', `const log = require(${JSON.stringify(LOGGER)}).createLogger({ level: 'info' });\n${code}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  // whole lines only: a read of the pipe can end inside one
  const lines = () => out.slice(0, out.lastIndexOf('\n') + 1).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { message: string; i?: number });
  return { child, exited, lines, output: () => out };
}

it('writes every line of a process that ends on its own, the last gathering included', async () => {
  const p = run('for (let i = 0; i < 1000; i++) log.info("notification accepted", { i });');
  expect(await p.exited).toBe(0);
  const lines = p.lines();
  expect(lines).toHaveLength(1000);
  expect(lines[999]).toMatchObject({ message: 'notification accepted', i: 999 });
});

it('writes the gathered lines when the process exits through process.exit', async () => {
  const p = run('for (let i = 0; i < 10; i++) log.info("line", { i }); process.exit(3);');
  expect(await p.exited).toBe(3);
  expect(p.lines().map((l) => l.i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

it('writes each full gathering at once, not waiting for the timer or the end', async () => {
  // 2,000 lines (about 150 KB), then the event loop held for 20 s: no timer runs and the process
  // does not end, so what arrives meanwhile was written because a gathering filled up
  const p = run('for (let i = 0; i < 2000; i++) log.info("notification accepted", { i }); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20_000);');
  try {
    const started = Date.now();
    // all but the last gathering (under 16 KB: fewer than 170 of these 99-character lines) come
    while (p.lines().length < 1800) {
      if (Date.now() - started > 10_000) throw new Error(`only ${p.lines().length} of 2,000 lines came within 10 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(p.child.exitCode).toBeNull();
    expect(p.lines().slice(0, 1800).map((l) => l.i)).toEqual([...Array(1800).keys()]);
  } finally {
    p.child.kill();
    await p.exited;
  }
});

it('writes a lone line within a fraction of a second while the process goes on', async () => {
  // one short line, far below a gathering, and the process alive for 10 s more
  const p = run('log.info("a lone line"); setTimeout(() => undefined, 10_000);');
  try {
    const started = Date.now();
    while (!p.output().includes('a lone line')) {
      if (Date.now() - started > 3000) throw new Error('the lone line did not come within 3 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(p.child.exitCode).toBeNull();
  } finally {
    p.child.kill();
    await p.exited;
  }
});
