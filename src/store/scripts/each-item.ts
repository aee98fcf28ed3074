import type { RedisConnection } from '../redis-connection';
import { lua, type LuaScript } from './lua-script';

/**
 * `script`'s own code as a local Lua function `name(KEYS, ARGV)`: it runs on the KEYS and ARGV it
 * is given (its `return` is the function's), so another script can run it on slices of its own.
 * That script lists `script.libraries` among its own.
 */
export const asLuaFunction = (name: string, script: LuaScript): string => `local function ${name}(KEYS, ARGV)
${script.body}
end
`;

/**
 * `script` run once per item in one call, in order, each run on its own slice of KEYS and its own
 * arguments, so many items cost one round trip and the script's logic stays in one place. The items
 * share a slot (on a Redis Cluster a script's keys must), and the script's libraries: the counts of
 * all items are written once, at the end (see counters.ts). Their keys go once each (items of one
 * shard share its schedule and counters), and their arguments travel as one JSON text: one string
 * for the client to write and Redis to read, instead of tens of thousands of arguments for a batch
 * of a thousand records (writing those was most of the client's cost).
 */
export function eachItem(name: string, script: LuaScript): EachItemScript {
  const each = lua(
    name,
    `--[[
  Runs ${script.name} once per item, one after the other.

  ARGV[1] JSON text: a list with, per item, the list of its keys' places in KEYS and the list of its
          arguments (strings)
  KEYS    every key of the items, once

  Returns the replies of ${script.name}, in order.
]]
${asLuaFunction('one', script)}
local items = cjson.decode(ARGV[1])
local replies = {}
for r = 1, #items do
  local places, keys = items[r][1], {}
  for j = 1, #places do keys[j] = KEYS[places[j]] end
  replies[r] = one(keys, items[r][2])
end
return replies
`,
    script.libraries,
  );
  return { ...each, one: script };
}

/** An eachItem script, with the script it runs per item. */
export interface EachItemScript extends LuaScript {
  readonly one: LuaScript;
}

/** An item of an eachItem call: its own KEYS and ARGV. */
export interface ScriptItem {
  keys: string[];
  args: string[];
}

/**
 * `each` run for `items`: their replies, in order. A lone item (the usual case at a low rate) goes
 * as the script itself, on its own KEYS and ARGV: no JSON for Redis to decode, which for one
 * receipt was about half of the script's own cost (10 of 19 µs before its first command).
 */
export async function runEachItem(redis: Pick<RedisConnection, 'run'>, each: EachItemScript, items: readonly ScriptItem[]): Promise<unknown[]> {
  if (items.length === 1) return [await redis.run(each.one, items[0].keys, items[0].args)];
  const call = eachItemCall(items);
  return (await redis.run(each, call.keys, call.args)) as unknown[];
}

/** KEYS and ARGV of an eachItem script for items given as their own KEYS and ARGV. */
function eachItemCall(items: readonly ScriptItem[]): { keys: string[]; args: string[] } {
  const keys: string[] = [];
  const places = new Map<string, number>();
  const each: [number[], readonly string[]][] = new Array(items.length);
  items.forEach((item, i) => {
    const own = item.keys.map((key) => {
      let place = places.get(key);
      if (place === undefined) {
        place = keys.push(key); // Lua counts from 1
        places.set(key, place);
      }
      return place;
    });
    each[i] = [own, item.args];
  });
  return { keys, args: [forCjson(JSON.stringify(each))] };
}

/**
 * A lone UTF-16 surrogate escaped by JSON.stringify (`\ud800`, not preceded by an escaping
 * backslash): Redis's cjson refuses to decode it, where a flat argument would carry it as UTF-8
 * does, as U+FFFD.
 */
const LONE_SURROGATE_ESCAPE = /(?<=(?:^|[^\\])(?:\\\\)*)\\ud[89a-f][0-9a-f]{2}/g;

/** JSON text that cjson decodes to what flat arguments would have been (lone surrogates as U+FFFD). */
const forCjson = (json: string): string => (json.includes('\\ud') ? json.replace(LONE_SURROGATE_ESCAPE, '\\ufffd') : json);
