import { lua } from './lua-script';

export const openWindow = lua(
  'openWindow',
  `--[[
  Sets a customer-service window (replacing what was there) and when it is dropped, in one step, so
  a window never exists without its expiry.

  KEYS[1] window hash {remaining, expiresAt}
  ARGV[1] remaining   ARGV[2] expiresAt (ms)   ARGV[3] drop at (epoch ms)
]]
redis.call('HSET', KEYS[1], 'remaining', ARGV[1], 'expiresAt', ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return 1
`,
);
