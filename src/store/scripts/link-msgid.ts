import { lua } from './lua-script';

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
