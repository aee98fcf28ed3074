import { lua } from './lua-script';

export const allDueNow = lua(
  'allDueNow',
  `--[[
  Makes every record on one shard's due schedule due at ARGV[1] (leased ones included).

  KEYS[1] the shard's due schedule (zset)
  ARGV[1] now (ms)

  Returns how many records the schedule holds.
]]
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
-- ZADD in chunks: unpack() of a very long list would exceed Lua's stack
for i = 1, #ids, 500 do
  local args = {}
  for j = i, math.min(i + 499, #ids) do
    args[#args + 1] = ARGV[1]
    args[#args + 1] = ids[j]
  end
  redis.call('ZADD', KEYS[1], unpack(args))
end
return #ids
`,
);
