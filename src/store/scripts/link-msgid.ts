import { asLuaFunction, eachItem } from './each-item';
import { lua } from './lua-script';
import { moveRecord } from './record-move';

export const linkMsgid = lua(
  'linkMsgid',
  `--[[
  Links a msgid to its record and hands over a receipt status that arrived before the link
  (stashed by resolveMsgid). The stash is kept until it expires, not deleted: a step that dies
  before applying it, or the receipt deadline, reads it again (applying a status twice is a
  compare-and-set that the second time changes nothing).

  KEYS[1] msgid -> record id   KEYS[2] early status stashed for that msgid
  ARGV[1] record id   ARGV[2] ttl (seconds)

  Returns the stashed status, or nil.
]]
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return redis.call('GET', KEYS[2])
`,
);

export const linkMsgidAndMove = lua(
  'linkMsgidAndMove',
  `--[[
  linkMsgid, then a record move (moveRecord), in one step: a send's msgid is linked to its record
  in the same step as the move that records the send.

  KEYS[1] msgid -> record id   KEYS[2] early status stashed for that msgid   KEYS[3..] moveRecord's
  ARGV[1] ttl (seconds)   ARGV[2..] moveRecord's (ARGV[2], its record id, is the one linked)

  Returns {1 when moved, 0 when not; the stashed status, or nil}.
]]
${asLuaFunction('move', moveRecord)}
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[1])
local early = redis.call('GET', KEYS[2])
return {move({unpack(KEYS, 3)}, {unpack(ARGV, 2)}), early}
`,
  moveRecord.libraries,
);

/** Sends of one shard recorded together (ScriptBatches), each as linkMsgidAndMove records it alone. */
export const linkMsgidsAndMoves = eachItem('linkMsgidsAndMoves', linkMsgidAndMove);
