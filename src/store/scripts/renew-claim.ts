import { lua } from './lua-script';

export const renewClaim = lua(
  'renewClaim',
  `--[[
  Extends a claim that is still held (value 'claimed'), so a live handler keeps it and one that
  died lets it lapse; a push already marked handled, or a lapsed claim, is left alone.

  KEYS[1] the push's seen key   ARGV[1] ttl (seconds)

  Returns 1 when extended, 0 otherwise.
]]
if redis.call('GET', KEYS[1]) ~= 'claimed' then return 0 end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
`,
);
