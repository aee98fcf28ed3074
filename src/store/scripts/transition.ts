import { lua } from './lua-script';

export const transition = lua(
  'transition',
  `--[[
  Compare-and-set on a record's status, with everything that goes with the change in the same step:
  fields, a history entry and the record's place on the due schedule.

  KEYS[1] record hash   KEYS[2] history list   KEYS[3] due schedule (zset)
  ARGV[1] record id   ARGV[2] new status   ARGV[3] history entry (JSON), or '' for none
  ARGV[4] schedule: '' leaves it, 'off' removes the id, otherwise the new due time (ms)
  ARGV[5] n, the number of accepted current statuses; ARGV[6 .. 5+n] those statuses
  ARGV[6+n ..] field, value, field, value, ... to set

  Returns 1 when changed; 0 when the record is gone or its status is not accepted (nothing changes).
]]
local current = redis.call('HGET', KEYS[1], 'status')
if not current then return 0 end
local n = tonumber(ARGV[5])
local accepted = false
for i = 6, 5 + n do
  if ARGV[i] == current then accepted = true break end
end
if not accepted then return 0 end

local set = {}
for i = 6 + n, #ARGV do set[#set + 1] = ARGV[i] end
-- the status goes last so it wins over a 'status' in the fields
set[#set + 1] = 'status'
set[#set + 1] = ARGV[2]
redis.call('HSET', KEYS[1], unpack(set))
-- RPUSHX: the list exists with the hash and keeps its TTL
if ARGV[3] ~= '' then redis.call('RPUSHX', KEYS[2], ARGV[3]) end
if ARGV[4] == 'off' then
  redis.call('ZREM', KEYS[3], ARGV[1])
elseif ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
end
return 1
`,
);
