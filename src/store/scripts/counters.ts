import { lua, type LuaLibrary } from './lua-script';

/**
 * Lua for the time-bucketed counters (layout in ../counter-buckets.ts): a function that adds to
 * the minute and hour buckets of one time, and the tally a record's creation or move adds with it.
 * Counts are summed in the script and written when it ends, one HINCRBY per field and resolution
 * however many records or receipts a batch script carried; a hash gets its expiry only
 * when a count creates a field (HINCRBY answered the sum itself), so almost never. (A script that
 * fails half-way writes none of its counts: the counters are statistics, and such a failure is a
 * bug that leaves the batch's other writes half done too.)
 */
export const COUNTERS: LuaLibrary = {
  name: 'counters',
  code: `
-- the counts still to be written: per hash (in the order first counted), its expiry and its
-- fields' sums (fields in the order first counted)
local pendingHashes, pending = {}, {}
local function addTo(key, expireAt, field, by)
  local hash = pending[key]
  if not hash then
    hash = {expireAt = expireAt, fields = {}, sums = {}}
    pending[key] = hash
    pendingHashes[#pendingHashes + 1] = key
  end
  if not hash.sums[field] then
    hash.fields[#hash.fields + 1] = field
    hash.sums[field] = 0
  end
  hash.sums[field] = hash.sums[field] + by
end

-- counts: counter, n, counter, n, ... added to the fields '<prefix><counter>' of both hashes
local function addToBuckets(minuteKey, minutePrefix, minuteExpireAt, hourKey, hourPrefix, hourExpireAt, counts)
  for j = 1, #counts, 2 do
    local by = tonumber(counts[j + 1])
    addTo(minuteKey, minuteExpireAt, minutePrefix .. counts[j], by)
    addTo(hourKey, hourExpireAt, hourPrefix .. counts[j], by)
  end
end

--[[ A record's tally, its arguments from argv[k]: n (0: none, and nothing follows), the subject,
  the record field to take the subject from instead ('' for none), the minute's and the hour's
  index, the minute and hour hashes' expiry (epoch s), then n counters, each 'name' or
  'status>name' (counted only when the record was in that status: 'current'; nil for a creation).
  'known': the record's fields read already (a table; false for an absent one), or nil.
  'times': how many records the tally counts at once (nil: one).
  Returns the index of the first argument after it. ]]
local function tally(argv, minuteKey, hourKey, record, current, k, known, times)
  local n = tonumber(argv[k])
  if n == 0 then return k + 1 end
  local subject = argv[k + 1]
  if argv[k + 2] ~= '' then
    local value = known and known[argv[k + 2]]
    if value == nil then value = redis.call('HGET', record, argv[k + 2]) end
    subject = value or ''
  end
  local counts = {}
  for j = k + 7, k + 6 + n do
    local only, name = string.match(argv[j], '^([%w_]+)>(.+)$')
    if not only then name = argv[j] end
    if not only or only == current then
      counts[#counts + 1] = name
      counts[#counts + 1] = times or 1
    end
  end
  addToBuckets(minuteKey, argv[k + 3] .. '|' .. subject .. '|', argv[k + 5], hourKey, argv[k + 4] .. '|' .. subject .. '|', argv[k + 6], counts)
  return k + 7 + n
end
`,
  finish: `
for _, key in ipairs(pendingHashes) do
  local hash, fresh = pending[key], false
  for _, field in ipairs(hash.fields) do
    local by = hash.sums[field]
    if redis.call('HINCRBY', key, field, by) == by then fresh = true end
  end
  if fresh then redis.call('EXPIREAT', key, hash.expireAt) end
end
`,
};

export const addCounters = lua(
  'addCounters',
  `--[[
  Adds to the deployment's own counters (subject ''), both resolutions at once.

  KEYS[1] the minute-resolution hash of the hour   KEYS[2] the hour-resolution hash of the day
  ARGV[1] minute index   ARGV[2] hour index   ARGV[3] KEYS[1]'s expiry   ARGV[4] KEYS[2]'s expiry (epoch s)
  ARGV[5..] counter, n, counter, n, ...
]]
addToBuckets(KEYS[1], ARGV[1] .. '||', ARGV[3], KEYS[2], ARGV[2] .. '||', ARGV[4], {unpack(ARGV, 5)})
return 1
`,
  [COUNTERS],
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
