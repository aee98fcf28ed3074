import { createHash } from 'node:crypto';

/**
 * Lua functions several scripts share (the counters, the history), placed once at the top of each
 * script that uses them, outside the script's own code: a script that runs another's code once per
 * item (each-item.ts) keeps one copy, and state they keep (counts still to be written) spans the
 * items. `finish` runs once at the end of the script, after its own code, whatever that returned.
 */
export interface LuaLibrary {
  readonly name: string;
  readonly code: string;
  readonly finish?: string;
}

/**
 * A Lua script kept as a TypeScript string (tsc does not copy .lua files to dist). Each lives in its
 * own file whose header lists KEYS, ARGV and the reply, as BullMQ's src/commands/*.lua do.
 */
export interface LuaScript {
  readonly name: string;
  /** What Redis runs: the libraries, then the body. */
  readonly source: string;
  readonly sha1: string;
  /** The script's own code, run on KEYS and ARGV (libraries' functions called by name). */
  readonly body: string;
  readonly libraries: readonly LuaLibrary[];
}

/** `body` with the `libraries` it calls (each once, however often listed). */
export function lua(name: string, body: string, libraries: readonly LuaLibrary[] = []): LuaScript {
  const own = [...new Map(libraries.map((library) => [library.name, library])).values()];
  const code = own.map((library) => library.code).join('');
  const finish = own.flatMap((library) => (library.finish ? [library.finish] : [])).join('');
  // with a finish, the body runs as a function so that its `return` comes back here first
  const source = finish
    ? `${code}local function main(KEYS, ARGV)\n${body}\nend\nlocal reply = main(KEYS, ARGV)\n${finish}return reply\n`
    : `${code}${body}`;
  return { name, source, sha1: createHash('sha1').update(source).digest('hex'), body, libraries: own };
}
