import { lua } from './lua-script';

export const deleteIfEqual = lua(
  'deleteIfEqual',
  `--[[
  Deletes a string key only while it holds the expected value (releasing a lock by its owner,
  deleteValueIf).

  KEYS[1] the key
  ARGV[1] the expected value

  Returns 1 when deleted, 0 otherwise.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`,
);
