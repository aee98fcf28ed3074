import { HISTORY } from './history';
import { lua } from './lua-script';

export const getRecord = lua(
  'getRecord',
  `--[[
  Reads a record's fields and history as of one moment (a move changes both at once).

  KEYS[1] record hash   KEYS[2] its older history list, if any (see HISTORY)

  Returns {the hash (flat: field, value, ...), the history lines (oldest first)}.
]]
local flat, lines = readRecord(KEYS[1], KEYS[2])
return {flat, lines}
`,
  [HISTORY],
);
