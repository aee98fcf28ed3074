import { lua } from './lua-script';

/*
 * One webhook endpoint's deliveries (see WebhookStore and WebhookKeys): a hash per delivery
 * (fields of deliveryFields, plus state, attempts, inOrder, givenUp, lastAttempt), a list of its
 * attempts, one list per subject of the deliveries not yet settled in order (the first is the one
 * on the schedule), the endpoint's schedule (zset), every delivery by creation time (zset) and the
 * endpoint's state (hash). All keys share the endpoint's hash tag; where a script reaches keys only
 * known inside it (deliveries listed by the zsets), it builds them from a prefix passed in ARGV, as
 * claimDue does.
 */

export const createDelivery = lua(
  'createDelivery',
  `--[[
  Creates a delivery unless it exists; it joins the end of its subject's order, and is scheduled at
  once when nothing of its subject is before it. The schedule and the list live as long as their
  newest delivery (so an endpoint deleted meanwhile leaves nothing for ever).

  KEYS[1] the delivery (hash)   KEYS[2] its subject's order (list)   KEYS[3] the schedule (zset)
  KEYS[4] every delivery by creation time (zset)
  ARGV[1] delivery id   ARGV[2] TTL (seconds)   ARGV[3] creation time (ms)
  ARGV[4] deliveries created before this time leave KEYS[4]   ARGV[5..] field, value, ...

  Returns 1 when created, 0 when it existed (nothing changes).
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('HSET', KEYS[1], 'state', 'pending', 'attempts', '0', 'inOrder', '1', 'givenUp', '0')
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[2])
if redis.call('LINDEX', KEYS[2], 0) == ARGV[1] then redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1]) end
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', '(' .. ARGV[4])
redis.call('EXPIRE', KEYS[3], ARGV[2])
redis.call('EXPIRE', KEYS[4], ARGV[2])
return 1
`,
);

export const readDelivery = lua(
  'readDelivery',
  `--[[
  KEYS[1] the delivery (hash)   KEYS[2] the schedule (zset)   KEYS[3] its attempts (list)
  ARGV[1] delivery id

  Returns {fields (flat), due time or '', attempts (JSON, oldest first)}.
]]
return {redis.call('HGETALL', KEYS[1]), redis.call('ZSCORE', KEYS[2], ARGV[1]) or '', redis.call('LRANGE', KEYS[3], 0, -1)}
`,
);

export const settleDelivery = lua(
  'settleDelivery',
  `--[[
  Records an attempt and what follows: a success or a failure given up settles the delivery (it
  leaves the schedule and its subject's order, and the next of that order is scheduled now); a
  failure to retry is scheduled again. The endpoint's failing streak starts at its first failure
  after a success; a failure disables the endpoint when asked to or when the streak is long enough.
  An attempt that ends after another one succeeded (a lease that ran out) is recorded, nothing more.

  KEYS[1] the delivery (hash)   KEYS[2] its attempts (list)   KEYS[3] its subject's order (list)
  KEYS[4] the schedule (zset)   KEYS[5] the endpoint's state (hash)
  ARGV[1] delivery id   ARGV[2] '1' succeeded, '0' failed   ARGV[3] the attempt (JSON)   ARGV[4] its time (ms)
  ARGV[5] retry time (ms), '' to give up   ARGV[6] disable the endpoint for this reason ('' no)
  ARGV[7] a failing streak this long (ms) disables it   ARGV[8] attempts kept (they expire with the delivery)

  Returns {0} when the delivery is gone, {1} when recorded, {1, disabledAt, reason, failingSince}
  when this attempt disabled the endpoint.
]]
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {0} end
redis.call('RPUSH', KEYS[2], ARGV[3])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[8]), -1)
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('HSET', KEYS[1], 'lastAttempt', ARGV[3])
if state == 'succeeded' then
  if redis.call('HGET', KEYS[1], 'inOrder') ~= '1' then redis.call('ZREM', KEYS[4], ARGV[1]) end
  return {1}
end
local ok = ARGV[2] == '1'
local inOrder = redis.call('HGET', KEYS[1], 'inOrder') == '1'
redis.call('HSET', KEYS[1], 'state', ok and 'succeeded' or 'failed')
if ok or ARGV[5] == '' or not inOrder then
  redis.call('ZREM', KEYS[4], ARGV[1])
  if not ok then redis.call('HSET', KEYS[1], 'givenUp', '1') end
  if inOrder then
    redis.call('HSET', KEYS[1], 'inOrder', '0')
    if redis.call('LINDEX', KEYS[3], 0) == ARGV[1] then
      redis.call('LPOP', KEYS[3])
      local nextOne = redis.call('LINDEX', KEYS[3], 0)
      if nextOne then redis.call('ZADD', KEYS[4], ARGV[4], nextOne) end
    end
  end
else
  redis.call('ZADD', KEYS[4], ARGV[5], ARGV[1])
end
if ok then
  redis.call('HDEL', KEYS[5], 'failingSince')
  return {1}
end
local since = redis.call('HGET', KEYS[5], 'failingSince')
if not since then
  since = ARGV[4]
  redis.call('HSET', KEYS[5], 'failingSince', since)
end
if redis.call('HEXISTS', KEYS[5], 'disabledAt') == 1 then return {1} end
local reason = ARGV[6]
if reason == '' and tonumber(ARGV[4]) - tonumber(since) >= tonumber(ARGV[7]) then reason = 'failing' end
if reason == '' then return {1} end
redis.call('HSET', KEYS[5], 'disabledAt', ARGV[4], 'disabledReason', reason)
return {1, ARGV[4], reason, since}
`,
);

export const retryDelivery = lua(
  'retryDelivery',
  `--[[
  Schedules a delivery now: the first of its subject's order (waiting for a retry, or held by a
  disabled endpoint) keeps its place; a settled one is sent once more, outside the order.

  KEYS[1] the delivery (hash)   KEYS[2] its subject's order (list)   KEYS[3] the schedule (zset)
  ARGV[1] delivery id   ARGV[2] now (ms)

  Returns 'queued', 'waiting' (an earlier delivery of its subject is not settled) or 'unknown'.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return 'unknown' end
if redis.call('HGET', KEYS[1], 'inOrder') == '1' and redis.call('LINDEX', KEYS[2], 0) ~= ARGV[1] then return 'waiting' end
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
return 'queued'
`,
);

export const recoverDeliveries = lua(
  'recoverDeliveries',
  `--[[
  Enables the endpoint and schedules now every delivery created since a time whose latest attempt
  failed (see retryDelivery for where each goes).

  KEYS[1] every delivery by creation time (zset)   KEYS[2] the schedule (zset)   KEYS[3] the endpoint's state (hash)
  ARGV[1] since (ms)   ARGV[2] now (ms)   ARGV[3] delivery key prefix

  Returns how many were scheduled.
]]
redis.call('HDEL', KEYS[3], 'disabledAt', 'disabledReason', 'failingSince')
local count = 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '+inf')) do
  if redis.call('HGET', ARGV[3] .. id, 'state') == 'failed' then
    redis.call('ZADD', KEYS[2], ARGV[2], id)
    count = count + 1
  end
end
return count
`,
);

export const listDeliveries = lua(
  'listDeliveries',
  `--[[
  Deliveries newest first, optionally of one state, after a given one.

  KEYS[1] every delivery by creation time (zset)   KEYS[2] the schedule (zset)
  ARGV[1] list after this delivery ('' from the newest)   ARGV[2] state ('' any)   ARGV[3] how many
  ARGV[4] delivery key prefix   ARGV[5] look at no more than this many
  ARGV[6] the creation time (ms) of ARGV[1]: when it is not in KEYS[1] (another endpoint's, or
  gone), the list goes on after its place (by time, then id); '' (not known): nothing follows

  Returns {{{fields (flat), due time or ''}, ...}, the last delivery looked at ('' when none is left)}.
]]
local start = 0
if ARGV[1] ~= '' then
  local rank = redis.call('ZREVRANK', KEYS[1], ARGV[1])
  if rank then
    start = rank + 1
  elseif ARGV[6] == '' then
    return {{}, ''}
  else
    start = redis.call('ZCOUNT', KEYS[1], '(' .. ARGV[6], '+inf')
    for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[6], ARGV[6])) do
      if id > ARGV[1] then start = start + 1 end
    end
  end
end
local limit = tonumber(ARGV[3])
local found = {}
local seen = 0
local last = ''
local exhausted = false
while #found < limit and seen < tonumber(ARGV[5]) do
  local ids = redis.call('ZREVRANGE', KEYS[1], start, start + 99)
  if #ids == 0 then
    exhausted = true
    break
  end
  for _, id in ipairs(ids) do
    seen = seen + 1
    last = id
    local fields = redis.call('HGETALL', ARGV[4] .. id)
    local state = redis.call('HGET', ARGV[4] .. id, 'state')
    if state and (ARGV[2] == '' or state == ARGV[2]) then
      found[#found + 1] = {fields, redis.call('ZSCORE', KEYS[2], id) or ''}
      if #found >= limit then break end
    end
  end
  start = start + #ids
end
if exhausted or last == '' or redis.call('ZREVRANK', KEYS[1], last) == redis.call('ZCARD', KEYS[1]) - 1 then last = '' end
return {found, last}
`,
);

export const subjectDeliveries = lua(
  'subjectDeliveries',
  `--[[
  The deliveries of one subject created at given times (a record's events are delivered at the
  times of their moves), oldest first.

  KEYS[1] every delivery by creation time (zset)   KEYS[2] the schedule (zset)
  ARGV[1] the subject   ARGV[2] delivery key prefix   ARGV[3..] creation times (ms), oldest first

  Returns {{fields (flat), due time or ''}, ...}.
]]
local found = {}
for i = 3, #ARGV do
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[i], ARGV[i])) do
    if redis.call('HGET', ARGV[2] .. id, 'subject') == ARGV[1] then
      found[#found + 1] = {redis.call('HGETALL', ARGV[2] .. id), redis.call('ZSCORE', KEYS[2], id) or ''}
    end
  end
end
return found
`,
);

export const dropEndpoint = lua(
  'dropEndpoint',
  `--[[
  Forgets an endpoint's schedule, delivery list and state (its deliveries expire with their TTL).

  KEYS[1] the schedule (zset)   KEYS[2] every delivery (zset)   KEYS[3] the endpoint's state (hash)

  Returns 1.
]]
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return 1
`,
);

export const forgetEndpoint = lua(
  'forgetEndpoint',
  `--[[ KEYS[1] the registered endpoints (hash)   ARGV[1] an endpoint id. Removes it; returns 1. ]]
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
`,
);
