import { lua } from './lua-script';

export const getRecord = lua(
  'getRecord',
  `--[[
  Reads a record's fields and history as of one moment (a move changes both at once).

  KEYS[1] record hash   KEYS[2] history list

  Returns {fields (flat: field, value, ...), history entries (JSON, oldest first)}.
]]
return {redis.call('HGETALL', KEYS[1]), redis.call('LRANGE', KEYS[2], 0, -1)}
`,
);
