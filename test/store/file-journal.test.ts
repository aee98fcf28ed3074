import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileJournal } from '../../src/store/file-journal';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'wxreach-journal-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('FileJournal (local durable queue)', () => {
  it('hands entries back oldest first, once, and survives a new instance (a restart)', async () => {
    const file = path.join(dir, 'sub', 'j.jsonl');
    const first = new FileJournal<{ n: number }>(file);
    first.append({ n: 1 });
    first.append({ n: 2 });
    expect(readFileSync(file, 'utf8')).toBe('{"n":1}\n{"n":2}\n');
    const seen: number[] = [];
    const restarted = new FileJournal<{ n: number }>(file);
    expect(restarted.pending).toBe(true);
    expect(await restarted.drain(async (e) => void seen.push(e.n))).toBe(2);
    expect(seen).toEqual([1, 2]);
    expect(restarted.pending).toBe(false);
    expect(await restarted.drain(async () => undefined)).toBe(0);
  });

  it('keeps the entry that failed and the rest for the next drain; entries appended meanwhile follow', async () => {
    const journal = new FileJournal<{ n: number }>(path.join(dir, 'j.jsonl'));
    for (const n of [1, 2, 3]) journal.append({ n });
    const seen: number[] = [];
    let failures = 0;
    await expect(
      journal.drain(async (e) => {
        if (e.n === 2) {
          failures += 1;
          throw new Error('store away');
        }
        seen.push(e.n);
      }),
    ).rejects.toThrow('store away');
    expect(failures).toBe(1);
    journal.append({ n: 4 });
    expect(await journal.drain(async (e) => void seen.push(e.n))).toBe(2);
    expect(await journal.drain(async (e) => void seen.push(e.n))).toBe(1);
    expect(seen).toEqual([1, 2, 3, 4]);
  });

  it('drops a line torn by a crash during append, and says so', async () => {
    const file = path.join(dir, 'j.jsonl');
    const journal = new FileJournal<{ n: number }>(file);
    journal.append({ n: 1 });
    appendFileSync(file, '{"n":');
    const torn: string[] = [];
    const seen: number[] = [];
    expect(await journal.drain(async (e) => void seen.push(e.n), (line) => torn.push(line))).toBe(1);
    expect(seen).toEqual([1]);
    expect(torn).toEqual(['{"n":']);
  });
});
