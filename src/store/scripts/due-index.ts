import { lua } from './lua-script';

/*
 * The due index (see RedisDueSchedule): a zset under the deployment's tag whose members are shards
 * (`<appid>:<shard>`) scored by when the shard next has something due, and a hash of the claim in
 * progress on each shard (member → token). Every script here reads:

  KEYS[1] the due index (zset)   KEYS[2] claims in progress (hash)
  ARGV[1] the shard's member

 * A claim marks the shard (markDueClaim), claims on the shard's own schedule (another slot), then
 * settles the index with what the shard holds after the claim (settleDueClaim). A write that puts a
 * record on a shard's schedule hints the index afterwards (hintDue), which also voids any claim in
 * progress on that shard: the claim's view of the shard is out of date, so its settle may only
 * lower the score, never raise or remove it.
 */

export const hintDue = lua(
  'hintDue',
  `--[[ A record of the shard is due at ARGV[2] (ms): the score drops to it unless it is lower
  already, and a claim in progress may no longer raise it. ]]
redis.call('ZADD', KEYS[1], 'LT', ARGV[2], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
`,
);

export const markDueClaim = lua(
  'markDueClaim',
  `--[[ A claim on the shard begins: the score becomes ARGV[2] (the lease end), so the shard comes
  back by itself if the claimer dies, and the claim is recorded under token ARGV[3]. ]]
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return 1
`,
);

export const settleDueClaim = lua(
  'settleDueClaim',
  `--[[ A claim on the shard ends; ARGV[2] its token, ARGV[3] the shard's earliest score after the
  claim ('' when its schedule was empty). While the claim is still the shard's latest and no write
  hinted since, the score becomes exactly that (or the shard leaves the index); otherwise it may
  only drop to it. Returns 1 when settled exactly, 0 otherwise. ]]
if redis.call('HGET', KEYS[2], ARGV[1]) == ARGV[2] then
  redis.call('HDEL', KEYS[2], ARGV[1])
  if ARGV[3] == '' then
    redis.call('ZREM', KEYS[1], ARGV[1])
  else
    redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
  end
  return 1
end
if ARGV[3] ~= '' then redis.call('ZADD', KEYS[1], 'LT', ARGV[3], ARGV[1]) end
return 0
`,
);
