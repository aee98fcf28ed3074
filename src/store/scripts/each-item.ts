import { lua, type LuaScript } from './lua-script';

/**
 * `script`'s source as a local Lua function `name(KEYS, ARGV)`: it runs on the KEYS and ARGV it is
 * given (its `return` is the function's), so another script can run it on slices of its own.
 */
export const asLuaFunction = (name: string, script: LuaScript): string => `local function ${name}(KEYS, ARGV)
${script.source}
end
`;

/**
 * `script` run once per item in one call, in order, each run on its own slice of KEYS and its own
 * arguments, so many items cost one round trip and the script's logic stays in one place. The items
 * share a slot (on a Redis Cluster a script's keys must). The items' arguments travel as one JSON
 * text (one string for the client to write and Redis to read, instead of tens of thousands of
 * arguments for a batch of a thousand records: writing those was most of the client's cost).
 */
export function eachItem(name: string, script: LuaScript): LuaScript {
  return lua(
    name,
    `--[[
  Runs ${script.name} once per item, one after the other.

  ARGV[1] JSON text: a list with, per item, its number of keys and the list of its arguments (strings)
  KEYS    the items' keys, one item's after the other's

  Returns the replies of ${script.name}, in order.
]]
${asLuaFunction('one', script)}
local items = cjson.decode(ARGV[1])
local replies = {}
local k = 0
for r = 1, #items do
  local nkeys, args = items[r][1], items[r][2]
  local keys = {}
  for j = 1, nkeys do keys[j] = KEYS[k + j] end
  replies[r] = one(keys, args)
  k = k + nkeys
end
return replies
`,
  );
}

/** KEYS and ARGV of an eachItem script for items given as their own KEYS and ARGV. */
export function eachItemCall(items: readonly { keys: readonly string[]; args: readonly string[] }[]): { keys: string[]; args: string[] } {
  const keys: string[] = [];
  const each: [number, readonly string[]][] = new Array(items.length);
  items.forEach((item, i) => {
    for (const key of item.keys) keys.push(key);
    each[i] = [item.keys.length, item.args];
  });
  return { keys, args: [JSON.stringify(each)] };
}
