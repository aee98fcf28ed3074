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
 * `script` run once per item in one call, in order, each run on its own slice of KEYS and ARGV,
 * so many items cost one round trip and the script's logic stays in one place. The items share
 * a slot (on a Redis Cluster a script's keys must).
 */
export function eachItem(name: string, script: LuaScript): LuaScript {
  return lua(
    name,
    `--[[
  Runs ${script.name} once per item, one after the other.

  ARGV[1] n, then per item: its number of keys, its number of arguments, then its arguments
  KEYS    the items' keys, one item's after the other's

  Returns the n replies of ${script.name}, in order.
]]
${asLuaFunction('one', script)}
local replies = {}
local k, a = 0, 2
for r = 1, tonumber(ARGV[1]) do
  local nkeys, nargs = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  local keys, args = {}, {}
  for j = 1, nkeys do keys[j] = KEYS[k + j] end
  for j = 1, nargs do args[j] = ARGV[a + 1 + j] end
  replies[r] = one(keys, args)
  k = k + nkeys
  a = a + 2 + nargs
end
return replies
`,
  );
}

/** KEYS and ARGV of an eachItem script for items given as their own KEYS and ARGV. */
export function eachItemCall(items: readonly { keys: readonly string[]; args: readonly string[] }[]): { keys: string[]; args: string[] } {
  const keys: string[] = [];
  const args = [String(items.length)];
  for (const item of items) {
    for (const key of item.keys) keys.push(key);
    args.push(String(item.keys.length), String(item.args.length));
    for (const arg of item.args) args.push(arg);
  }
  return { keys, args };
}
