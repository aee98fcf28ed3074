import { COUNTERS } from './counters';
import { HISTORY } from './history';
import { eachItem } from './each-item';
import { lua } from './lua-script';

/** What every move script calls. */
const MOVE_LIBRARIES = [COUNTERS, HISTORY];

/**
 * The compare-and-set every record move starts with (shared by the move scripts below, so the
 * conditions are written once). It reads:

  KEYS[1] record hash   KEYS[2] its older history list, if any (scripts/history.ts)
  KEYS[3] due schedule (zset)   KEYS[4] outbox (stream)
  KEYS[5] KEYS[6] the minute and hour counter hashes of the move's time (its tally, see counters.ts)
  ARGV[1] record id   ARGV[2] new status   ARGV[3] history line (redis-record-codec.ts) or ''
  ARGV[4] schedule: '' leaves it, 'off' removes the id, otherwise the new due time (ms)
  ARGV[5] n, then the n from-statuses; then m, then m/2 expect pairs (field, value);
          then k, then k/2 set pairs (field, value); then e, then the event (e = 0: none):
          id, type, time (ms), account, then the names of the fields it keeps;
          then the tally's arguments (see counters.ts; '0' for none);
          then the script's own arguments.

 * and leaves `rest` = the index of the script's first own argument. The event goes to the outbox
 * with the kept fields (as 'f:<name>') and the history as the move left them (a JSON array of its
 * stored lines). Returns 0 (nothing changed) when the record is gone or a condition fails; flat
 * arguments, so no JSON is decoded in Redis. The scripts' own keys start at KEYS[7].
 */
const MOVE_PRELUDE = `
local i = 5
local nfrom = tonumber(ARGV[i])
local e = i + nfrom + 1
local nexpect = tonumber(ARGV[e])
local nset = tonumber(ARGV[e + nexpect + 1])
local nevent = tonumber(ARGV[e + nexpect + nset + 2])
-- the tally's arguments start here; the record field it takes its subject from, if any
local t = e + nexpect + nset + nevent + 3
local subjectField = tonumber(ARGV[t]) ~= 0 and ARGV[t + 2] ~= '' and ARGV[t + 2] or nil
-- the status, the history's slot count, the expected fields and that field, in one read
local read = {'status', '~'}
for j = 1, nexpect, 2 do read[#read + 1] = ARGV[e + j] end
if subjectField then read[#read + 1] = subjectField end
local got = redis.call('HMGET', KEYS[1], unpack(read))
local current, slots = got[1], got[2]
if not current then return 0 end
local accepted = false
for j = 1, nfrom do
  if ARGV[i + j] == current then accepted = true end
end
if not accepted then return 0 end
for j = 1, nexpect, 2 do
  if (got[2 + (j + 1) / 2] or '') ~= ARGV[e + j + 1] then return 0 end
end
i = e + nexpect + 1
local set = {}
for j = 1, nset do set[j] = ARGV[i + j] end
-- the record's fields read already, as the move leaves them (false for an absent one): the
-- subject's field here, the event's kept fields below
local known = {}
if subjectField then
  local value = got[#read]
  for j = 1, nset, 2 do
    if set[j] == subjectField then value = set[j + 1] end
  end
  if subjectField == 'status' then value = ARGV[2] end
  known[subjectField] = value
end
-- the status goes after the fields so it wins over a 'status' among them; the history line's
-- slots go in the same write
set[nset + 1] = 'status'
set[nset + 2] = ARGV[2]
if ARGV[3] ~= '' then slots = appendLine(KEYS[1], KEYS[2], ARGV[3], slots, set) end
redis.call('HSET', KEYS[1], unpack(set))
if ARGV[4] == 'off' then
  redis.call('ZREM', KEYS[3], ARGV[1])
elseif ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
end
i = i + nset + 1
-- the fields the event keeps, as the move left them (the tally may take its subject from one)
if nevent > 0 then
  local entry = {'id', ARGV[i + 1], 'type', ARGV[i + 2], 'at', ARGV[i + 3], 'account', ARGV[i + 4], 'subject', ARGV[1]}
  -- the kept fields and the history's slots in one read (an older record's history is its list)
  local names = {}
  for j = 5, nevent do names[#names + 1] = ARGV[i + j] end
  local kept = #names
  if slots then slotNames(names, slots) end
  local values = #names > 0 and redis.call('HMGET', KEYS[1], unpack(names)) or {}
  for j = 1, kept do
    known[names[j]] = values[j]
    if values[j] then
      entry[#entry + 1] = 'f:' .. names[j]
      entry[#entry + 1] = values[j]
    end
  end
  entry[#entry + 1] = 'history'
  entry[#entry + 1] = slots and linesJson(joinSlots(values, kept + 1)) or historyJson(KEYS[1], KEYS[2], slots)
  redis.call('XADD', KEYS[4], '*', unpack(entry))
end
local rest = i + nevent + 1
-- statistics: the counters the move adds, in its buckets (scripts/counters.ts)
rest = tally(ARGV, KEYS[5], KEYS[6], KEYS[1], current, rest, known)
`;

/**
 * The shard's index of parked records (for finding them across owners), kept with the owners'
 * parked lists: a record joins it when parked and leaves it when it leaves its owner's list. Its
 * members are local ids (the record id without its account).
 */
const PARKED_INDEX = `
local localId = string.match(ARGV[1], '^[^.]+')
`;

export const moveRecord = lua(
  'moveRecord',
  `--[[ A record move; KEYS[7], when given, is the owner's parked list the record leaves, and
  KEYS[8] the shard's parked index. Returns 1 when moved, 0 when not. ]]${MOVE_PRELUDE}
if KEYS[7] then redis.call('ZREM', KEYS[7], ARGV[1]) end
-- parked index
${PARKED_INDEX}
if KEYS[8] then redis.call('ZREM', KEYS[8], localId) end
return 1
`,
  MOVE_LIBRARIES,
);

/** Moves of one shard that go together (ScriptBatches), each as moveRecord moves it alone. */
export const moveRecords = eachItem('moveRecords', moveRecord);

export const parkRecord = lua(
  'parkRecord',
  `--[[ A record move that parks it: KEYS[7] the owner's parked list (zset), ARGV[rest] the score,
  ARGV[rest + 1] the list's TTL (seconds); KEYS[8] the shard's parked index, ARGV[rest + 2] when
  the park ends (ms), ARGV[rest + 3] index entries ending before this (ms) leave it.
  Returns 1 when moved, 0 when not. ]]${MOVE_PRELUDE}
redis.call('ZADD', KEYS[7], ARGV[rest], ARGV[1])
redis.call('EXPIRE', KEYS[7], ARGV[rest + 1])
-- parked index
${PARKED_INDEX}
redis.call('ZADD', KEYS[8], ARGV[rest + 2], localId)
redis.call('ZREMRANGEBYSCORE', KEYS[8], '-inf', '(' .. ARGV[rest + 3])
redis.call('EXPIRE', KEYS[8], ARGV[rest + 1])
return 1
`,
  MOVE_LIBRARIES,
);

export const releaseRecordAsReply = lua(
  'releaseRecordAsReply',
  `--[[ A record move that makes it the passive reply to a push: KEYS[7] the owner's parked list it
  leaves, KEYS[8] the push's reply, ARGV[rest] the reply text, ARGV[rest + 1] its TTL (ms);
  KEYS[9] the shard's parked index it leaves. Returns 1 when moved, 0 when not. ]]${MOVE_PRELUDE}
redis.call('ZREM', KEYS[7], ARGV[1])
redis.call('SET', KEYS[8], ARGV[rest], 'PX', ARGV[rest + 1])
-- parked index
${PARKED_INDEX}
redis.call('ZREM', KEYS[9], localId)
return 1
`,
  MOVE_LIBRARIES,
);
