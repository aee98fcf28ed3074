import { lua } from './lua-script';

/**
 * Lua for the time-bucketed counters (layout in ../counter-buckets.ts): a function that adds to
 * the minute and hour buckets of one time, and the tally a record's creation or move adds with it.
 * Both are pasted into the record scripts; a hash gets its expiry only when a count creates a
 * field (HINCRBY answered the increment itself), so the usual count is one HINCRBY per resolution.
 */
export const COUNTER_FUNCTIONS = `
-- counts: counter, n, counter, n, ... added to the fields '<prefix><counter>' of both hashes
local function addToBuckets(minuteKey, minutePrefix, minuteExpireAt, hourKey, hourPrefix, hourExpireAt, counts)
  local freshMinute, freshHour = false, false
  for j = 1, #counts, 2 do
    local by = tonumber(counts[j + 1])
    if redis.call('HINCRBY', minuteKey, minutePrefix .. counts[j], by) == by then freshMinute = true end
    if redis.call('HINCRBY', hourKey, hourPrefix .. counts[j], by) == by then freshHour = true end
  end
  if freshMinute then redis.call('EXPIREAT', minuteKey, minuteExpireAt) end
  if freshHour then redis.call('EXPIREAT', hourKey, hourExpireAt) end
end

--[[ A record's tally, its arguments from ARGV[k]: n (0: none, and nothing follows), the subject,
  the record field to take the subject from instead ('' for none), the minute's and the hour's
  index, the minute and hour hashes' expiry (epoch s), then n counters, each 'name' or
  'status>name' (counted only when the record was in that status: 'current'; nil for a creation).
  Returns the index of the first argument after it. ]]
local function tally(minuteKey, hourKey, record, current, k)
  local n = tonumber(ARGV[k])
  if n == 0 then return k + 1 end
  local subject = ARGV[k + 1]
  if ARGV[k + 2] ~= '' then subject = redis.call('HGET', record, ARGV[k + 2]) or '' end
  local counts = {}
  for j = k + 7, k + 6 + n do
    local only, name = string.match(ARGV[j], '^([%w_]+)>(.+)$')
    if not only then name = ARGV[j] end
    if not only or only == current then
      counts[#counts + 1] = name
      counts[#counts + 1] = 1
    end
  end
  addToBuckets(minuteKey, ARGV[k + 3] .. '|' .. subject .. '|', ARGV[k + 5], hourKey, ARGV[k + 4] .. '|' .. subject .. '|', ARGV[k + 6], counts)
  return k + 7 + n
end
`;

export const addCounters = lua(
  'addCounters',
  `--[[
  Adds to the deployment's own counters (subject ''), both resolutions at once.

  KEYS[1] the minute-resolution hash of the hour   KEYS[2] the hour-resolution hash of the day
  ARGV[1] minute index   ARGV[2] hour index   ARGV[3] KEYS[1]'s expiry   ARGV[4] KEYS[2]'s expiry (epoch s)
  ARGV[5..] counter, n, counter, n, ...
]]${COUNTER_FUNCTIONS}
addToBuckets(KEYS[1], ARGV[1] .. '||', ARGV[3], KEYS[2], ARGV[2] .. '||', ARGV[4], {unpack(ARGV, 5)})
return 1
`,
);

export const sumCounterPeriod = lua(
  'sumCounterPeriod',
  `--[[
  A counter hash summed over its buckets: every '<index>|<subject>|<counter>' field added up under
  '<subject>|<counter>' (a day read of the hour resolution), so the reply is a few fields however
  many buckets the period holds.

  KEYS[1] the counter hash of one period

  Returns {subject|counter, n, subject|counter, n, ...}.
]]
local totals, order = {}, {}
local flat = redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do
  local key = string.sub(flat[i], (string.find(flat[i], '|', 1, true) or 0) + 1)
  if totals[key] == nil then
    order[#order + 1] = key
    totals[key] = 0
  end
  totals[key] = totals[key] + tonumber(flat[i + 1])
end
local out = {}
for _, key in ipairs(order) do
  out[#out + 1] = key
  out[#out + 1] = tostring(totals[key])
end
return out
`,
);
