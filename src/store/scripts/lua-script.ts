import { createHash } from 'node:crypto';

/**
 * A Lua script kept as a TypeScript string (tsc does not copy .lua files to dist). Each lives in its
 * own file whose header lists KEYS, ARGV and the reply, as BullMQ's src/commands/*.lua do.
 */
export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha1: string;
}

export function lua(name: string, source: string): LuaScript {
  return { name, source, sha1: createHash('sha1').update(source).digest('hex') };
}
