/** Runs tasks one after the other per key, and tasks of different keys at the same time. */
export class KeyedSerializer {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `task` once the earlier tasks of `key` are done; `waited` says whether there were any. */
  run<T>(key: string, task: (waited: boolean) => Promise<T>): Promise<T> {
    const previous = this.tails.get(key);
    const result = (previous ?? Promise.resolve()).then(() => task(previous !== undefined));
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}
