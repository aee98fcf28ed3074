import { lua } from './lua-script';

export const transition = lua(
  'transition',
  `--[[
  Compare-and-set on a record's status (and on other fields), with everything that goes with the
  change in the same step: fields, a history entry, the record's place on the due schedule, an
  ordered-set membership and a value.

  KEYS[1] record hash   KEYS[2] history list   KEYS[3] due schedule (zset)
  KEYS[4] ordered set to add to   KEYS[5] ordered set to remove from   KEYS[6] value key
          (KEYS[4..6] are the record hash again when unused)
  ARGV[1] record id   ARGV[2] new status   ARGV[3] history entry (JSON), or '' for none
  ARGV[4] schedule: '' leaves it, 'off' removes the id, otherwise the new due time (ms)
  ARGV[5] JSON { from: [status..], set: [field, value, ..], expect: [field, value, ..],
                 add?: { member, score, ttl }, remove?: member, value?: { v, ttl } }

  Returns 1 when changed; 0 when the record is gone or a condition fails (nothing changes).
]]
local current = redis.call('HGET', KEYS[1], 'status')
if not current then return 0 end
local o = cjson.decode(ARGV[5])
local accepted = false
for _, s in ipairs(o.from) do
  if s == current then accepted = true break end
end
if not accepted then return 0 end
for i = 1, #o.expect, 2 do
  if (redis.call('HGET', KEYS[1], o.expect[i]) or '') ~= o.expect[i + 1] then return 0 end
end

local set = o.set
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
if o.add then
  redis.call('ZADD', KEYS[4], o.add.score, o.add.member)
  redis.call('EXPIRE', KEYS[4], o.add.ttl)
end
if o.remove then redis.call('ZREM', KEYS[5], o.remove) end
if o.value then redis.call('SET', KEYS[6], o.value.v, 'PX', o.value.ttl) end
return 1
`,
);
