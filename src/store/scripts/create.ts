import { COUNTERS } from './counters';
import { HISTORY } from './history';
import { lua } from './lua-script';

/** How many arguments one command of the script takes at most (Lua's unpack puts them all on its stack). */
const CHUNK = 2000;

export const createRecords = lua(
  'createRecords',
  `--[[
  Creates records of one shard, in order: each its hash with its fields and the first line of its
  history (the record's shape: redis-record-codec.ts), and, once per call, their tally (its subject
  given, not read from a record: they share it), their places on the shard's due schedule and in
  the search indexes. What the records share (expiry, listing time, tally) is given once, and so
  are the prefixes their keys are made of: every key is under the shard's hash tag, in the slot of
  KEYS[1]. (An idempotency key lives under the account's tag, in another slot: the caller sets it
  first, see RedisAccountStore.createMany.)

  KEYS[1] the shard's due schedule (zset)
  KEYS[2] KEYS[3] the minute and hour counter hashes of the tally's time (see counters.ts)
  ARGV[1] JSON text: per record a list: its local id, its first history line, its due time (ms)
          or '' for none, the number n of its search terms, their n key parts, then its fields:
          field, value, field, value, ...
  ARGV[2] the prefix of record keys: a record's key is it, the local id, then ARGV[3]
  ARGV[3] what a local id is followed by in a record id ('.<appid>')
  ARGV[4] the prefix of search index keys: an index's key is it, then the term's part
  ARGV[5] ttl (seconds)   ARGV[6] listing time in the indexes (ms)
  ARGV[7] index entries listed before this time (ms) leave
  ARGV[8..] the tally's arguments ('0' for none)

  Returns per record 1 when created; -1 when the record already existed (nothing changes for it).
]]
local ttl, listedAt = ARGV[5], ARGV[6]
local items = cjson.decode(ARGV[1])
local replies, scheduled, listed, terms = {}, {}, {}, {}
local created = 0
for r = 1, #items do
  local item = items[r]
  local record = ARGV[2] .. item[1] .. ARGV[3]
  if redis.call('EXISTS', record) == 1 then
    replies[r] = -1
  else
    created = created + 1
    local n = item[4]
    -- the first history line (see history.ts) and the fields in one write, the fields passed as
    -- the item holds them (copying them into a list first was a tenth of the script's time); a
    -- first line longer than a slot (a long detail) writes its further slots after
    local slots, count = lineSlots(item[2], 0)
    redis.call('HSET', record, '~', count, slots[1], slots[2], unpack(item, 5 + n))
    if #slots > 2 then redis.call('HSET', record, unpack(slots, 3)) end
    redis.call('EXPIRE', record, ttl)
    if item[3] ~= '' then
      scheduled[#scheduled + 1] = item[3]
      scheduled[#scheduled + 1] = item[1] .. ARGV[3]
    end
    for j = 5, 4 + n do
      local members = listed[item[j]]
      if not members then
        members = {}
        listed[item[j]] = members
        terms[#terms + 1] = item[j]
      end
      members[#members + 1] = listedAt
      members[#members + 1] = item[1]
    end
    replies[r] = 1
  end
end
-- statistics: the counters the creations add, in their buckets (written when the script ends)
if created > 0 then tally(ARGV, KEYS[2], KEYS[3], nil, nil, 8, nil, created) end
-- score, member, ... pairs to zset key, ${CHUNK} arguments per ZADD
local function addAll(key, pairs)
  for from = 1, #pairs, ${CHUNK} do redis.call('ZADD', key, unpack(pairs, from, math.min(from + ${CHUNK - 1}, #pairs))) end
end
addAll(KEYS[1], scheduled)
-- search indexes: listed with their records, as long as the newest record they list; entries
-- older than the retention have lost their records and are dropped as the index grows
for _, term in ipairs(terms) do
  local key = ARGV[4] .. term
  addAll(key, listed[term])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. ARGV[7])
  redis.call('EXPIRE', key, ttl)
end
return replies
`,
  [COUNTERS, HISTORY],
);
