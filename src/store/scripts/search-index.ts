import { lua } from './lua-script';

export const searchIndex = lua(
  'searchIndex',
  `--[[
  One page of a search index of one shard (a zset of local record ids, see RecordSearch), after a
  position, keeping only the records that still exist and that one of the given creators made (or
  that name no creator). The records are in the index's slot: their keys are built from a prefix
  and a suffix, as claimDue does.

  KEYS[1] the index (zset)
  ARGV[1] 'asc' or 'desc'   ARGV[2] after this score ('' from the start)   ARGV[3] and, at that score, after this local id
  ARGV[4] how many ids at most   ARGV[5] look at no more than this many entries
  ARGV[6] record key prefix   ARGV[7] record key suffix   ARGV[8] the creator field
  ARGV[9..] the creators whose records count (none: every record's)

  Returns {{local id, score, ...}, {score, local id} of the last entry looked at, or {} when the index has no more}.
]]
local desc = ARGV[1] == 'desc'
local count = tonumber(ARGV[4])
local budget = tonumber(ARGV[5])
local creators = nil
if #ARGV >= 9 then
  creators = {}
  for i = 9, #ARGV do creators[ARGV[i]] = true end
end
local found = {}
local seen = 0
local last = {}
local function look(id, score)
  seen = seen + 1
  last = {score, id}
  local record = redis.call('HMGET', ARGV[6] .. id .. ARGV[7], 'status', ARGV[8])
  if record[1] and (creators == nil or not record[2] or creators[record[2]]) then
    found[#found + 1] = id
    found[#found + 1] = score
  end
end
local function full() return #found >= 2 * count or seen >= budget end
local function range(from, to, offset, n)
  if desc then return redis.call('ZRANGE', KEYS[1], from, to, 'BYSCORE', 'REV', 'LIMIT', offset, n, 'WITHSCORES') end
  return redis.call('ZRANGE', KEYS[1], from, to, 'BYSCORE', 'LIMIT', offset, n, 'WITHSCORES')
end
local from = desc and '+inf' or '-inf'
local to = desc and '-inf' or '+inf'
if ARGV[2] ~= '' then
  -- first the entries at the position's score that come after its id (equal scores go by id)
  local offset = 0
  while not full() do
    local ties = range(ARGV[2], ARGV[2], offset, 100)
    if #ties == 0 then break end
    for i = 1, #ties, 2 do
      if full() then break end
      local id = ties[i]
      if (desc and id < ARGV[3]) or (not desc and id > ARGV[3]) then look(id, ties[i + 1]) end
    end
    offset = offset + #ties / 2
  end
  from = '(' .. ARGV[2]
end
local offset = 0
while not full() do
  local chunk = range(from, to, offset, 100)
  if #chunk == 0 then return {found, {}} end
  for i = 1, #chunk, 2 do
    if full() then break end
    look(chunk[i], chunk[i + 1])
  end
  offset = offset + #chunk / 2
end
return {found, last}
`,
);
