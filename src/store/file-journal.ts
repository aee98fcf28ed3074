import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';

/** Writes `text` to `file` (appending or replacing) and waits until it is on disk. */
function writeDurably(file: string, text: string, flags: 'a' | 'w'): void {
  const fd = openSync(file, flags);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * A local, durable queue of JSON entries in one file (one entry per line), for what must not be
 * lost while the shared store is unreachable. `append` returns once the entry is on disk (fsync).
 * `drain` hands the entries back oldest first; it first moves the file aside, so entries appended
 * meanwhile wait for the next drain, and a crash during a drain leaves the moved file to be
 * drained again (so `apply` must be safe to repeat). One process per file.
 */
export class FileJournal<T> {
  private readonly draining: string;

  constructor(private readonly file: string) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.draining = `${file}.draining`;
  }

  append(entry: T): void {
    writeDurably(this.file, `${JSON.stringify(entry)}\n`, 'a');
  }

  /** Entries are waiting to be drained. */
  get pending(): boolean {
    return existsSync(this.draining) || existsSync(this.file);
  }

  /**
   * Applies each entry in order and forgets it. Stops at the first entry `apply` throws on and
   * keeps it and the rest for the next drain. A line that is not JSON (torn by a crash during
   * `append`) is passed to `onUnreadable` and dropped. Returns the number applied.
   */
  async drain(apply: (entry: T) => Promise<void>, onUnreadable: (line: string) => void = () => undefined): Promise<number> {
    if (!existsSync(this.draining)) {
      if (!existsSync(this.file)) return 0;
      renameSync(this.file, this.draining);
    }
    const lines = readFileSync(this.draining, 'utf8').split('\n').filter((l) => l.length > 0);
    let done = 0;
    let applied = 0;
    try {
      for (const line of lines) {
        let entry: T;
        try {
          entry = JSON.parse(line) as T;
        } catch {
          onUnreadable(line);
          done += 1;
          continue;
        }
        await apply(entry);
        done += 1;
        applied += 1;
      }
    } finally {
      if (done === lines.length) unlinkSync(this.draining);
      else if (done > 0) writeDurably(this.draining, lines.slice(done).map((l) => `${l}\n`).join(''), 'w');
    }
    return applied;
  }
}
