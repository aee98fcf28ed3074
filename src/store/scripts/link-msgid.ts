import { lua } from './lua-script';

export const linkMsgid = lua(
  'linkMsgid',
  `--[[
  Links a msgid to its record and takes over a receipt status that arrived before the link
  (stashed by resolveMsgid), exactly once.

  KEYS[1] msgid -> record id   KEYS[2] early status stashed for that msgid
  ARGV[1] record id   ARGV[2] ttl (seconds)

  Returns the stashed status (now deleted), or nil.
]]
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return redis.call('GETDEL', KEYS[2])
`,
);
