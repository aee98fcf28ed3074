import { lua } from './lua-script';

export const closeAllowances = lua(
  'closeAllowances',
  `--[[
  Marks allowances as expired now and keeps them until ARGV[2], so they read as expired rather than
  unknown. Allowances that do not exist stay unknown.

  KEYS[1..n] allowance hashes {remaining, expiresAt}
  ARGV[1] now (ms)   ARGV[2] keep until (epoch ms)

  Returns the number of allowances closed.
]]
local now = tonumber(ARGV[1])
local closed = 0
for _, key in ipairs(KEYS) do
  local expiresAt = redis.call('HGET', key, 'expiresAt')
  if expiresAt then
    if tonumber(expiresAt) > now then redis.call('HSET', key, 'expiresAt', ARGV[1]) end
    redis.call('PEXPIREAT', key, ARGV[2])
    closed = closed + 1
  end
end
return closed
`,
);
