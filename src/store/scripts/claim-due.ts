import { lua } from './lua-script';

export const claimDue = lua(
  'claimDue',
  `--[[
  Claims due records of one shard: takes up to ARGV[3] ids due at or before ARGV[1], earliest first
  (ties by id), and moves them to ARGV[2] (the lease end), so no other caller gets them before the
  lease runs out. Ids whose record hash has expired are removed from the schedule and not counted.

  The record keys are built from ARGV[4] rather than passed in KEYS because the ids are only known
  here; they carry the same hash tag as KEYS[1], so the script stays single-slot in Redis Cluster
  (as BullMQ does with its key prefix).

  KEYS[1] the shard's due schedule (zset)
  ARGV[1] now (ms)   ARGV[2] lease end (ms, > now)   ARGV[3] limit   ARGV[4] record key prefix

  Returns {earliest, id, id, ...}: the schedule's earliest score after the claim (leased ids
  included; '' when the schedule is empty), for the due index, then the claimed ids.
]]
local limit = tonumber(ARGV[3])
local claimed = {''}
local pruned
repeat
  pruned = false
  local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, limit - (#claimed - 1))
  for _, id in ipairs(ids) do
    if redis.call('EXISTS', ARGV[4] .. id) == 1 then
      redis.call('ZADD', KEYS[1], ARGV[2], id)
      claimed[#claimed + 1] = id
    else
      redis.call('ZREM', KEYS[1], id)
      pruned = true
    end
  end
-- only a pass that pruned can leave due ids unseen within the limit
until not pruned or #claimed - 1 >= limit
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if first[2] then claimed[1] = first[2] end
return claimed
`,
);
