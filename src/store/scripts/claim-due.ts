import { HISTORY } from './history';
import { lua, type LuaLibrary } from './lua-script';

/**
 * Claims due members of one schedule (a shard's records, or webhook deliveries): takes up to
 * `limit` members due at or before `now`, earliest first (ties by member), and moves them to
 * `leaseEnd`, so no other caller gets them before the lease runs out. Members whose hash
 * (`prefix .. member`) has expired are removed from the schedule and not counted. The hash keys
 * are built from the prefix rather than passed in KEYS because the members are only known here;
 * they carry the schedule's hash tag, so a script stays single-slot in Redis Cluster (as BullMQ
 * does with its key prefix).
 */
const CLAIM: LuaLibrary = {
  name: 'claim',
  code: `
-- returns {earliest, member, member, ...}: the schedule's earliest score after the claim (leased
-- members included; '' when it is empty), for the due index, then the claimed members
local function claimIds(due, now, leaseEnd, limit, prefix)
  limit = tonumber(limit)
  local claimed = {''}
  local pruned
  repeat
    pruned = false
    local ids = redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', 0, limit - (#claimed - 1))
    for _, id in ipairs(ids) do
      if redis.call('EXISTS', prefix .. id) == 1 then
        redis.call('ZADD', due, leaseEnd, id)
        claimed[#claimed + 1] = id
      else
        redis.call('ZREM', due, id)
        pruned = true
      end
    end
  -- only a pass that pruned can leave due ids unseen within the limit
  until not pruned or #claimed - 1 >= limit
  local first = redis.call('ZRANGE', due, 0, 0, 'WITHSCORES')
  if first[2] then claimed[1] = first[2] end
  return claimed
end
`,
};

export const claimDue = lua(
  'claimDue',
  `--[[
  Claims due members of one schedule (see CLAIM in claim-due.ts).

  KEYS[1] the schedule (zset)
  ARGV[1] now (ms)   ARGV[2] lease end (ms, > now)   ARGV[3] limit   ARGV[4] the members' hash key prefix

  Returns {earliest, member, member, ...} (see claimIds).
]]
return claimIds(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
`,
  [CLAIM],
);

export const claimDueRecords = lua(
  'claimDueRecords',
  `--[[
  Claims due records of one shard, as claimDue, and reads each claimed record in the same step (as
  getRecord does: readRecord), so the worker that handles it needs no read of its own.

  KEYS[1] the shard's due schedule (zset)
  ARGV[1] now (ms)   ARGV[2] lease end (ms, > now)   ARGV[3] limit   ARGV[4] record key prefix
  ARGV[5] older history list key prefix (see HISTORY)

  Returns {earliest, id, fields (flat), history lines, id, fields, lines, ...}.
]]
local claimed = claimIds(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
local out = {claimed[1]}
for k = 2, #claimed do
  local id = claimed[k]
  local flat, lines = readRecord(ARGV[4] .. id, ARGV[5] .. id)
  out[#out + 1] = id
  out[#out + 1] = flat
  out[#out + 1] = lines
end
return out
`,
  [CLAIM, HISTORY],
);
