import { lua } from './lua-script';

export const takeFromWindow = lua(
  'takeFromWindow',
  `--[[
  Uses one message from the first window that is open (expiresAt > now) and has uses left.

  KEYS[1..n] window hashes {remaining, expiresAt}, in order of preference
  ARGV[1] now (ms)

  Returns {'taken', i} (i = index into KEYS, 1-based); otherwise {'exhausted'} when some window is
  valid but used up, {'expired'} when all known ones are past, {'unknown'} when none exists.
]]
local now = tonumber(ARGV[1])
local known, valid = false, false
for i, key in ipairs(KEYS) do
  local state = redis.call('HMGET', key, 'remaining', 'expiresAt')
  if state[2] then
    known = true
    if tonumber(state[2]) > now then
      valid = true
      if tonumber(state[1]) > 0 then
        redis.call('HINCRBY', key, 'remaining', -1)
        return {'taken', i}
      end
    end
  end
end
if valid then return {'exhausted'} end
if known then return {'expired'} end
return {'unknown'}
`,
);
