import { lua } from './lua-script';

export const closeWindows = lua(
  'closeWindows',
  `--[[
  Marks windows as expired now and keeps them until ARGV[2], so they read as expired rather than
  unknown. One that does not exist is created expired (remaining 0): closed is known, not unknown.

  KEYS[1..n] window hashes {remaining, expiresAt}
  ARGV[1] now (ms)   ARGV[2] keep until (epoch ms)

  Returns the number of windows closed.
]]
local now = tonumber(ARGV[1])
local closed = 0
for _, key in ipairs(KEYS) do
  local expiresAt = redis.call('HGET', key, 'expiresAt')
  if not expiresAt then
    redis.call('HSET', key, 'remaining', 0, 'expiresAt', ARGV[1])
  elseif tonumber(expiresAt) > now then
    redis.call('HSET', key, 'expiresAt', ARGV[1])
  end
  redis.call('PEXPIREAT', key, ARGV[2])
  closed = closed + 1
end
return closed
`,
);
