import { lua } from './lua-script';

/*
 * The due index (see RedisDueSchedule): a zset under the deployment's tag whose members are shards
 * (`<appid>:<shard>`) scored by when the shard next has something due, and a hash of the claim in
 * progress on each shard (member → token). Every script here reads:

  KEYS[1] the due index (zset)   KEYS[2] claims in progress (hash)

 * and takes several shards at once (what one turn of the event loop gathered, or one claim's
 * shards: one call instead of one per shard).
 *
 * A claim marks the shard (markDueClaim), claims on the shard's own schedule (another slot), then
 * settles the index with what the shard holds after the claim (settleDueClaim). A write that puts a
 * record on a shard's schedule hints the index afterwards (hintDue), which also voids any claim in
 * progress on that shard: the claim's view of the shard is out of date, so its settle may only
 * lower the score, never raise or remove it.
 */

export const hintDue = lua(
  'hintDue',
  `--[[ ARGV: member, time, member, time, ...: a record of the shard is due at the time (ms); the
  score drops to it unless it is lower already, and a claim in progress may no longer raise it. ]]
for i = 1, #ARGV, 2 do
  redis.call('ZADD', KEYS[1], 'LT', ARGV[i + 1], ARGV[i])
  redis.call('HDEL', KEYS[2], ARGV[i])
end
return 1
`,
);

export const markDueClaim = lua(
  'markDueClaim',
  `--[[ A claim on the shards ARGV[3..] begins: their score becomes ARGV[1] (the lease end), so a
  shard comes back by itself if the claimer dies, and the claim is recorded under token ARGV[2]. ]]
for i = 3, #ARGV do
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[i])
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[2])
end
return 1
`,
);

export const settleDueClaim = lua(
  'settleDueClaim',
  `--[[ ARGV: member, token, earliest, ...: the claim with the token on the shard ends, the shard's
  earliest score after the claim ('' when its schedule was empty). While the claim is still the
  shard's latest and no write hinted since, the score becomes exactly that (or the shard leaves
  the index); otherwise it may only drop to it. ]]
for i = 1, #ARGV, 3 do
  local member, earliest = ARGV[i], ARGV[i + 2]
  if redis.call('HGET', KEYS[2], member) == ARGV[i + 1] then
    redis.call('HDEL', KEYS[2], member)
    if earliest == '' then
      redis.call('ZREM', KEYS[1], member)
    else
      redis.call('ZADD', KEYS[1], earliest, member)
    end
  elseif earliest ~= '' then
    redis.call('ZADD', KEYS[1], 'LT', earliest, member)
  end
end
return 1
`,
);
