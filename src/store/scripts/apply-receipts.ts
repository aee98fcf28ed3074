import { asLuaFunction } from './each-item';
import { HISTORY_FUNCTIONS } from './history';
import { lua } from './lua-script';
import { moveRecord } from './record-move';

/**
 * Receipts, each applied atomically in one step (see MsgidCorrelation.applyReceipts): on a Redis
 * Cluster those of one shard (one slot), on one Redis any.
 * The record move is moveRecord itself, run as a function on keys and arguments of its own, so a
 * receipt moves a record exactly as any other move does.
 */
export const applyReceipts = lua(
  'applyReceipts',
  `--[[
  Applies n receipts (of one slot on a cluster), one after the other. For receipt r, in order:

  KEYS: push seen mark, msgid -> record id, early status stashed for that msgid, then the
        moveRecord keys with the record's id left off (KEYS[1] and KEYS[2] of moveRecord end where
        the id goes)
  ARGV (after ARGV[1] = n): number of move keys, number of move arguments, seen TTL (seconds),
        status, stash TTL (seconds), sender, note time (ISO), note for another user's record, note
        for a record that does not take the move, how long a receipt that reached its record is
        marked seen and its msgid linked (seconds), then the moveRecord arguments (ARGV[1], the
        record id, left blank)

  A receipt that reaches its record (moved or late) is marked seen, and its msgid stays linked,
  for that short while only: WeChat re-sends a push within seconds, and a later repeat finds no
  link and is stashed, which changes nothing either. Any other receipt is marked seen for the
  seen TTL.

  Returns, per receipt: {'duplicate'} | {'stashed'} | {'gone' | 'foreign' | 'late' | 'moved', id}.
]]
${asLuaFunction('move', moveRecord)}${HISTORY_FUNCTIONS}
local function note(record, history, at, status, detail)
  appendLine(record, history, cjson.encode({at = at, status = status, detail = detail}))
end

local function apply(seen, msgidKey, early, mkeys, margs, seenSeconds, status, stashSeconds, sender, at, foreign, late, linkSeconds)
  if redis.call('GET', seen) == 'handled' then return {'duplicate'} end
  local result
  local id = redis.call('GET', msgidKey)
  if not id then
    redis.call('SET', early, status, 'NX', 'EX', stashSeconds)
    result = {'stashed'}
  else
    local record = mkeys[1] .. id
    local history = mkeys[2] .. id
    local owner, current = unpack(redis.call('HMGET', record, 'openid', 'status'))
    if not current then
      result = {'gone', id}
    elseif owner ~= sender then
      note(record, history, at, current, foreign)
      result = {'foreign', id}
    else
      mkeys[1] = record
      mkeys[2] = history
      margs[1] = id
      if move(mkeys, margs) == 1 then
        result = {'moved', id}
      else
        note(record, history, at, current, late)
        result = {'late', id}
      end
      redis.call('EXPIRE', msgidKey, linkSeconds)
      seenSeconds = linkSeconds
    end
  end
  redis.call('SET', seen, 'handled', 'EX', seenSeconds)
  return result
end

local results = {}
local k, a = 1, 2
for r = 1, tonumber(ARGV[1]) do
  local nkeys, nargs = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  local mkeys, margs = {}, {}
  for j = 1, nkeys do mkeys[j] = KEYS[k + 2 + j] end
  for j = 1, nargs do margs[j] = ARGV[a + 9 + j] end
  results[r] = apply(KEYS[k], KEYS[k + 1], KEYS[k + 2], mkeys, margs,
    ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5], ARGV[a + 6], ARGV[a + 7], ARGV[a + 8], ARGV[a + 9])
  k = k + 3 + nkeys
  a = a + 10 + nargs
end
return results
`,
);
