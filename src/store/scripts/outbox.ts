import { lua } from './lua-script';

/*
 * Outboxes: streams of events waiting to be handed on to the webhook endpoints (see WebhookStore).
 * A record's events are appended by its moves (record-move.ts) to its shard's outbox; the others to
 * the deployment's. An index under the deployment's tag names the outboxes that hold events; it
 * works as the due index does (due-index.ts: hinted after an append, marked and settled by a claim).
 */

export const appendEvent = lua(
  'appendEvent',
  `--[[
  Appends an event to the deployment's outbox and hints the index, in one step.

  KEYS[1] the deployment's outbox (stream)   KEYS[2] the outbox index (zset)   KEYS[3] claims in progress (hash)
  ARGV[1] event id   ARGV[2] type   ARGV[3] time (ms)   ARGV[4] account ('' for none)   ARGV[5] subject   ARGV[6] data (JSON)

  Returns 1.
]]
redis.call('XADD', KEYS[1], '*', 'id', ARGV[1], 'type', ARGV[2], 'at', ARGV[3], 'account', ARGV[4], 'subject', ARGV[5], 'data', ARGV[6])
redis.call('ZADD', KEYS[2], 'LT', ARGV[3], KEYS[1])
redis.call('HDEL', KEYS[3], KEYS[1])
return 1
`,
);

export const readOutbox = lua(
  'readOutbox',
  `--[[
  The oldest events of an outbox.

  KEYS[1] the outbox (stream)   ARGV[1] how many

  Returns {{entry id, {field, value, ...}}, ...}, oldest first.
]]
return redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', ARGV[1])
`,
);

export const ackOutbox = lua(
  'ackOutbox',
  `--[[
  Removes events that were handed on.

  KEYS[1] the outbox (stream)   ARGV[1..] their entry ids

  Returns how many events the outbox still holds.
]]
redis.call('XDEL', KEYS[1], unpack(ARGV))
return redis.call('XLEN', KEYS[1])
`,
);

export const outboxLength = lua(
  'outboxLength',
  `--[[ KEYS[1] an outbox (stream). Returns how many events it holds. ]]
return redis.call('XLEN', KEYS[1])
`,
);
