import { COUNTER_FUNCTIONS } from './counters';
import { lua } from './lua-script';

export const createRecord = lua(
  'create',
  `--[[
  Creates a record: its hash, its history list with the first entry, and optionally its place on
  its shard's due schedule. Hash and history share the record's TTL. (An idempotency key lives under
  the account's tag, in another slot: the caller sets it first, see RedisAccountStore.create.)

  KEYS[1] record hash   KEYS[2] history list   KEYS[3] the shard's due schedule (zset)
  KEYS[4] KEYS[5] the minute and hour counter hashes of the creation's time (its tally, see counters.ts)
  ARGV[1] record id   ARGV[2] ttl (seconds)   ARGV[3] first history entry (JSON)
  ARGV[4] due time (ms), or '' for none
  ARGV[5..] the tally's arguments ('0' for none), then field, value, field, value, ...

  Returns 1 when created; -1 when record ARGV[1] already exists (nothing changes).
]]${COUNTER_FUNCTIONS}
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
local ttl = ARGV[2]
-- statistics: the counters the creation adds, in its buckets; the fields follow its arguments
local fields = tally(KEYS[4], KEYS[5], KEYS[1], nil, 5)
redis.call('HSET', KEYS[1], unpack(ARGV, fields))
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('RPUSH', KEYS[2], ARGV[3])
redis.call('EXPIRE', KEYS[2], ttl)
if ARGV[4] ~= '' then redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1]) end
return 1
`,
);
