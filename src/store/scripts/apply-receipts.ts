import { asLuaFunction, eachItem } from './each-item';
import { HISTORY } from './history';
import { lua } from './lua-script';
import { moveRecord } from './record-move';

/**
 * A receipt applied atomically in one step (see MsgidCorrelation.applyReceipts). The record move
 * is moveRecord itself, run as a function on keys and arguments of its own, so a receipt moves a
 * record exactly as any other move does.
 */
const applyReceipt = lua(
  'applyReceipt',
  `--[[
  Applies one receipt.

  KEYS[1] push seen mark   KEYS[2] msgid -> record id   KEYS[3] early status stashed for that msgid
  KEYS[4..] the moveRecord keys with the record's id left off (KEYS[1] and KEYS[2] of moveRecord
            end where the id goes)
  ARGV[1] seen TTL (seconds)   ARGV[2] status   ARGV[3] stash TTL (seconds)   ARGV[4] sender
  ARGV[5] note time (ISO)   ARGV[6] note for another user's record   ARGV[7] note for a record that
  does not take the move   ARGV[8] how long a receipt that reached its record is marked seen and
  its msgid linked (seconds)   ARGV[9..] the moveRecord arguments (ARGV[1], the record id, left
  blank), the move expecting the record's openid to be the sender's

  A receipt that reaches its record (moved or late) is marked seen, and its msgid stays linked,
  for that short while only: WeChat re-sends a push within seconds, and a later repeat finds no
  link and is stashed, which changes nothing either. Any other receipt is marked seen for the
  seen TTL.

  Returns {'duplicate'} | {'stashed'} | {'gone' | 'foreign' | 'late' | 'moved', id}.
]]
${asLuaFunction('move', moveRecord)}
local function note(record, history, at, status, detail)
  appendLine(record, history, cjson.encode({at = at, status = status, detail = detail}), redis.call('HGET', record, '~'))
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
    mkeys[1] = record
    mkeys[2] = history
    margs[1] = id
    -- the move expects the record to be the sender's: only when it does not happen is the record
    -- read to tell why
    if move(mkeys, margs) == 1 then
      result = {'moved', id}
    else
      local owner, current = unpack(redis.call('HMGET', record, 'openid', 'status'))
      if not current then
        result = {'gone', id}
      elseif owner ~= sender then
        note(record, history, at, current, foreign)
        result = {'foreign', id}
      else
        note(record, history, at, current, late)
        result = {'late', id}
      end
    end
    if result[1] == 'moved' or result[1] == 'late' then
      redis.call('EXPIRE', msgidKey, linkSeconds)
      seenSeconds = linkSeconds
    end
  end
  redis.call('SET', seen, 'handled', 'EX', seenSeconds)
  return result
end

return apply(KEYS[1], KEYS[2], KEYS[3], {unpack(KEYS, 4)}, {unpack(ARGV, 9)}, unpack(ARGV, 1, 8))
`,
  [...moveRecord.libraries, HISTORY],
);

/** Receipts of one slot on a cluster (on one Redis any), one after the other, each as applyReceipt applies one: its replies in order. */
export const applyReceipts = eachItem('applyReceipts', applyReceipt);
