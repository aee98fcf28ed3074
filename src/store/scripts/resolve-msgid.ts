import { lua } from './lua-script';

export const resolveMsgid = lua(
  'resolveMsgid',
  `--[[
  Resolves a msgid to its record id; when the msgid is not linked yet (the receipt beat the send
  answer), stashes the status for linkMsgid. Only the first status is stashed.

  KEYS[1] msgid -> record id   KEYS[2] early status stashed for that msgid
  ARGV[1] status   ARGV[2] ttl of the stash (seconds)

  Returns the record id, or nil when not linked (and the status is stashed).
]]
local id = redis.call('GET', KEYS[1])
if id then return id end
redis.call('SET', KEYS[2], ARGV[1], 'NX', 'EX', ARGV[2])
return false
`,
);
