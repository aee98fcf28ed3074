import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { respCommand, sendBatches, type RespBatch } from '../../bench/lib/raw-redis';
import { testRedisUrl } from '../helpers/harness';

// bench:intake's bare limit writes to Redis with this client: every command it sends must be
// carried out, and a command Redis refuses must stop the run instead of being counted.

const url = testRedisUrl();
const port = Number(new URL(url).port);
const client = createClient({ url });
const prefix = `raw-${randomBytes(4).toString('hex')}`;

beforeAll(() => client.connect());
afterAll(async () => {
  for await (const keys of client.scanIterator({ MATCH: `${prefix}:*` })) if (keys.length > 0) await client.del(keys);
  await client.quit();
});

const batchOf = (commands: string[][]): RespBatch => ({ bytes: Buffer.from(commands.map(respCommand).join('')), commands: commands.length });

it('encodes a command as RESP, counting bytes, not characters', () => {
  expect(respCommand(['SET', 'k', '订单'])).toBe('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\n订单\r\n');
});

it('carries out every command of every batch, a few batches in flight', async () => {
  const batches = Array.from({ length: 5 }, (_, b) =>
    batchOf(Array.from({ length: 200 }, (_, i) => ['HSET', `${prefix}:h:${b}:${i}`, 'status', 'queued', 'openid', `o${i}`]).concat([['ZADD', `${prefix}:due`, ...Array.from({ length: 200 }, (_, i) => [String(i), `${b}:${i}`]).flat()]])),
  );
  await sendBatches(port, batches, 2);
  expect(await client.zCard(`${prefix}:due`)).toBe(1000);
  expect(await client.hGetAll(`${prefix}:h:4:199`)).toEqual({ status: 'queued', openid: 'o199' });
});

it('stops at an error reply and says what Redis answered', async () => {
  const batches = [batchOf([['SET', `${prefix}:s`, 'v'], ['ZADD', `${prefix}:z`, 'not-a-score', 'm']])];
  await expect(sendBatches(port, batches, 1)).rejects.toThrow(/an error: -ERR value is not a valid float/);
  expect(await client.get(`${prefix}:s`)).toBe('v');
});

it('refuses a command whose reply is more than one line (it would be miscounted)', async () => {
  await client.hSet(`${prefix}:m`, { a: '1' });
  await expect(sendBatches(port, [batchOf([['HGETALL', `${prefix}:m`]])], 1)).rejects.toThrow(/more than one line: \*2/);
});

it('has nothing to do for no batch', async () => {
  await expect(sendBatches(port, [], 2)).resolves.toBeUndefined();
});
