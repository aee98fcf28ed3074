import { lua } from './lua-script';

export const giveBackToWindow = lua(
  'giveBackToWindow',
  `--[[
  Gives back one message of a window, unless it is gone (HINCRBY alone would create a hash with no
  expiry).

  KEYS[1] window hash {remaining, expiresAt}

  Returns the remaining uses, or -1 when the window is gone.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('HINCRBY', KEYS[1], 'remaining', 1)
`,
);
