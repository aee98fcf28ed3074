import { lua } from './lua-script';

export const takeIdempotencyKeys = lua(
  'takeIdempotencyKeys',
  `--[[
  Takes each idempotency key unless it is held (SET NX), in order: a key taken for an item is held
  for the items after it. Every key is under the account's hash tag, in the slot of KEYS[1].

  KEYS[1] the first item's key
  ARGV[1] the prefix of idempotency keys: an item's key is it, then the item's key part
  ARGV[2] JSON text: per item a list: its key part, the value it is taken with, its expiry (seconds)

  Returns per item what holds its key: nil when the item took it, else the value that holds it.
]]
local items = cjson.decode(ARGV[2])
local held = {}
for r = 1, #items do
  local item = items[r]
  held[r] = redis.call('SET', ARGV[1] .. item[1], item[2], 'NX', 'GET', 'EX', item[3])
end
return held
`,
);
