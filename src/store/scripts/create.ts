import { lua } from './lua-script';

export const createRecord = lua(
  'create',
  `--[[
  Creates a record: its hash, its history list with the first entry, optionally its place on the due
  schedule and its idempotency key. Hash, history and idempotency key share the record's TTL.

  KEYS[1] record hash   KEYS[2] history list   KEYS[3] due schedule (zset)
  KEYS[4] idempotency key (only when the caller gave one)
  ARGV[1] record id   ARGV[2] ttl (seconds)   ARGV[3] first history entry (JSON)
  ARGV[4] due time (ms), or '' for none
  ARGV[5] idempotency value stored under KEYS[4] (JSON {id, fingerprint}), or ''
  ARGV[6..] field, value, field, value, ...

  Returns 1 when created; the value stored under KEYS[4] when that key was used before (nothing
  changes); -1 when record ARGV[1] already exists (nothing changes).
]]
if KEYS[4] then
  local existing = redis.call('GET', KEYS[4])
  if existing then return existing end
end
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
local ttl = ARGV[2]
if KEYS[4] then redis.call('SET', KEYS[4], ARGV[5], 'NX', 'EX', ttl) end
redis.call('HSET', KEYS[1], unpack(ARGV, 6))
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('RPUSH', KEYS[2], ARGV[3])
redis.call('EXPIRE', KEYS[2], ttl)
if ARGV[4] ~= '' then redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1]) end
return 1
`,
);
