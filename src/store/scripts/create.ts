import { COUNTERS } from './counters';
import { eachItem } from './each-item';
import { HISTORY } from './history';
import { lua } from './lua-script';

export const createRecord = lua(
  'create',
  `--[[
  Creates a record: its hash with its fields and the first line of its history (the record's
  shape: redis-record-codec.ts), and optionally its place on its shard's due schedule. (An
  idempotency key lives under the account's tag, in another slot: the caller sets it first, see
  RedisAccountStore.create.)

  KEYS[1] record hash   KEYS[2] the shard's due schedule (zset)
  KEYS[3] KEYS[4] the minute and hour counter hashes of the creation's time (its tally, see counters.ts)
  KEYS[5..] the search terms' indexes (zsets) the record is listed in
  ARGV[1] record id   ARGV[2] ttl (seconds)   ARGV[3] first history line
  ARGV[4] due time (ms), or '' for none
  ARGV[5] listing time in the indexes (ms)   ARGV[6] the record's local id   ARGV[7] index entries listed before this time (ms) leave
  ARGV[8..] the tally's arguments ('0' for none), then field, value, field, value, ...

  Returns 1 when created; -1 when record ARGV[1] already exists (nothing changes).
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
local ttl = ARGV[2]
-- statistics: the counters the creation adds, in its buckets; the fields follow its arguments
local fields = tally(ARGV, KEYS[3], KEYS[4], KEYS[1], nil, 8)
redis.call('HSET', KEYS[1], unpack(ARGV, fields))
appendLine(KEYS[1], nil, ARGV[3], nil)
redis.call('EXPIRE', KEYS[1], ttl)
if ARGV[4] ~= '' then redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1]) end
-- search indexes: listed with the record, as long as the newest record they list; entries older
-- than the retention have lost their records and are dropped as the index grows
for i = 5, #KEYS do
  redis.call('ZADD', KEYS[i], ARGV[5], ARGV[6])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', '(' .. ARGV[7])
  redis.call('EXPIRE', KEYS[i], ttl)
end
return 1
`,
  [COUNTERS, HISTORY],
);

/** Records of one slot created in one call, each exactly as createRecord creates one: its replies in order. */
export const createRecords = eachItem('createRecords', createRecord);
