import { lua, type LuaLibrary } from './lua-script';

/**
 * Lua for a record's history (the record's shape: ../redis-record-codec.ts), pasted into the
 * scripts that write or read it. A line goes into the record's hash, in slots `~1`, `~2`, ... of at
 * most 64 bytes each (so the hash stays a listpack); `~` counts the slots. A longer line is cut
 * between UTF-8 characters and goes on in the next slots, each starting with `+` (no line starts
 * so). A record written before histories moved into the hash keeps its history list: its lines go
 * on there. A script tells the two apart by the record's `~` field, which it reads with whatever
 * else it reads of the record and passes in as `slots` (false or nil: none, so the record is new,
 * or older and its lines are in the list).
 */
export const HISTORY: LuaLibrary = {
  name: 'history',
  code: `
local SLOT_BYTES = 64

-- first lines cut into slots so far, by line: records created together share theirs (the
-- creation script writes hundreds with one), and cutting is string work per record
local firstLineSlots = {}

-- line as the slots that follow slot n: a list of slot field, part, ... (not to be changed: a
-- first line's is kept for the next record); and the slot count after it
local function lineSlots(line, n)
  local first = n == 0
  if first and firstLineSlots[line] then return firstLineSlots[line][1], firstLineSlots[line][2] end
  local slots = {}
  local from, mark = 1, ''
  while from <= #line do
    local to = math.min(from + SLOT_BYTES - 1 - #mark, #line)
    -- never cut before a UTF-8 continuation byte (10xxxxxx)
    while to < #line and to > from do
      local after = string.byte(line, to + 1)
      if after < 128 or after >= 192 then break end
      to = to - 1
    end
    n = n + 1
    slots[#slots + 1] = '~' .. n
    slots[#slots + 1] = mark .. string.sub(line, from, to)
    from, mark = to + 1, '+'
  end
  if first then firstLineSlots[line] = { slots, n } end
  return slots, n
end

-- appends line to the history of record (hash) or, when it has one, to its older history list
-- (list nil: a new record, which has none); returns the record's slot count after it (false when
-- the line went to the list). With set (a flat field, value, ... list the caller writes to the
-- record with HSET), the slots are added to it instead of written here.
local function appendLine(record, list, line, slots, set)
  if not slots and list and redis.call('RPUSHX', list, line) > 0 then return false end
  local parts, n = lineSlots(line, tonumber(slots or '0'))
  local fields = set or {}
  fields[#fields + 1] = '~'
  fields[#fields + 1] = n
  for k = 1, #parts do fields[#fields + 1] = parts[k] end
  if not set then redis.call('HSET', record, unpack(fields)) end
  return n
end

-- the field names of a record's first n slots, added to names
local function slotNames(names, n)
  for k = 1, tonumber(n) do names[#names + 1] = '~' .. k end
  return names
end

-- the history lines from the slots' values parts[from..] (a line's continuation joined to it)
local function joinSlots(parts, from)
  local lines = {}
  for k = from, #parts do
    local part = parts[k]
    if part and string.sub(part, 1, 1) == '+' and #lines > 0 then
      lines[#lines] = lines[#lines] .. string.sub(part, 2)
    elseif part then
      lines[#lines + 1] = part
    end
  end
  return lines
end

-- the history lines of record, oldest first (from its hash, or its older history list)
local function historyLines(record, list, slots)
  if not slots then return redis.call('LRANGE', list, 0, -1) end
  return joinSlots(redis.call('HMGET', record, unpack(slotNames({}, slots))), 1)
end

-- a record's hash (flat: field, value, ...) and its history lines, oldest first, from the one read
-- of the hash (the slots are in it; an older record's lines are in its list)
local function readRecord(record, list)
  local flat = redis.call('HGETALL', record)
  local slots, own = nil, {}
  for k = 1, #flat, 2 do
    local field = flat[k]
    if string.byte(field, 1) == 126 then -- '~': the slot count, a slot, or a template keyword
      if #field == 1 then slots = flat[k + 1] else own[field] = flat[k + 1] end
    end
  end
  if not slots then return flat, redis.call('LRANGE', list, 0, -1) end
  local parts = {}
  for k = 1, tonumber(slots) do parts[k] = own['~' .. k] or false end
  return flat, joinSlots(parts, 1)
end

-- lines as JSON text: an array (empty: '[]', which cjson would make '{}')
local function linesJson(lines)
  if #lines == 0 then return '[]' end
  return cjson.encode(lines)
end

-- the history as JSON text: an array of the lines
local function historyJson(record, list, slots)
  return linesJson(historyLines(record, list, slots))
end
`,
};

export const appendHistory = lua(
  'appendHistory',
  `--[[
  Appends a line to a record's history whatever its status; nothing when the record is gone.

  KEYS[1] record hash   KEYS[2] its older history list (see HISTORY)
  ARGV[1] the line (see redis-record-codec.ts)
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
appendLine(KEYS[1], KEYS[2], ARGV[1], redis.call('HGET', KEYS[1], '~'))
return 1
`,
  [HISTORY],
);
