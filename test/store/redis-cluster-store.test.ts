import { freePort } from '../../src/dev/free-port';
import { RedisCluster } from '../../src/dev/redis-cluster';
import { RedisServer } from '../../src/dev/redis-server';
import { RedisStore } from '../../src/store/redis-store';
import type { HistoryEntry } from '../../src/store/store';
import { StoreUnavailableError } from '../../src/store/unavailable';
import { describeStoreContract } from './contract';
import { redisAdmin, type RedisAdmin } from './redis-admin';
import { describeRedisStore } from './redis-behaviour';

/**
 * The store on a real local Redis Cluster of 3 masters with AOF (one cluster for this file, made in
 * a few seconds): the contract, the Redis behaviours, and what only a cluster has.
 */
let cluster: RedisCluster;
let admin: RedisAdmin;
beforeAll(async () => {
  cluster = await RedisCluster.launch({ masters: 3, persistence: 'aof' });
  admin = await redisAdmin({ clusterNodes: cluster.nodes });
}, 30_000);
afterAll(async () => {
  await admin?.close();
  await cluster?.stop();
});

let count = 0;
const newPrefix = () => `wxrc-${count++}`;
const entry = (status: string): HistoryEntry => ({ at: new Date(0).toISOString(), status, detail: '' });

describeStoreContract('RedisStore on a cluster', async () => {
  const store = await RedisStore.connect({ clusterNodes: cluster.nodes, prefix: newPrefix() });
  return { store, cleanup: () => store.close() };
});

describeRedisStore('a cluster', () => ({ clusterNodes: cluster.nodes }), () => admin, newPrefix);

describe('RedisStore on a cluster: what only a cluster has', () => {
  it('spreads accounts, and the users of one account, over every master', async () => {
    const prefix = newPrefix();
    const store = await RedisStore.connect({ clusterNodes: [cluster.nodes[0]], prefix }); // one node is enough to find the others
    try {
      for (const appid of ['wxspread01', 'wxspread02', 'wxspread03', 'wxspread04']) {
        const account = store.forAccount(appid);
        await Promise.all(Array.from({ length: 16 }, (_, i) => account.create(account.newId(`user-${i}`), { status: 'queued' }, entry('queued'), { ttlSeconds: 600 })));
      }
      const perMaster = await admin.keysPerMaster(prefix);
      expect(perMaster).toHaveLength(3);
      for (const keys of perMaster) expect(keys).toBeGreaterThan(10); // 4 accounts × 8 shards × records and histories
      // one account alone reaches every master too
      const one = await admin.keysPerMaster(`${prefix}:wxspread01:`);
      expect(one.filter((keys) => keys > 0)).toHaveLength(3);
    } finally {
      await store.close();
    }
  });

  it('keeps a master\'s data over a crash and a restart from its AOF; meanwhile only its slots fail, fast', async () => {
    const store = await RedisStore.connect({ clusterNodes: cluster.nodes, prefix: newPrefix() });
    try {
      const accounts = Array.from({ length: 12 }, (_, i) => store.forAccount(`wxrestart${i}`));
      const ids = new Map<string, string[]>();
      for (const account of accounts) {
        ids.set(account.account, Array.from({ length: 8 }, (_, i) => account.newId(`user-${i}`)));
        await Promise.all(ids.get(account.account)!.map((id) => account.create(id, { status: 'queued' }, entry('queued'), { ttlSeconds: 600, dueAt: 1 })));
        await account.setValue('token', `token of ${account.account}`);
      }
      await cluster.kill(1);
      const started = Date.now();
      const reads = await Promise.allSettled(accounts.map((account) => account.getValue('token')));
      expect(Date.now() - started).toBeLessThan(1500);
      const failed = reads.filter((read) => read.status === 'rejected');
      // the accounts on the other masters are served; those on the dead one fail as unavailable
      expect(failed.length).toBeGreaterThan(0);
      expect(failed.length).toBeLessThan(accounts.length);
      for (const read of failed) expect((read as PromiseRejectedResult).reason).toBeInstanceOf(StoreUnavailableError);
      await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);

      await cluster.restart(1);
      for (let deadline = Date.now() + 10_000; ; ) {
        try {
          await store.ping();
          break;
        } catch (err) {
          if (Date.now() > deadline) throw err;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      for (const account of accounts) {
        await expect(account.getValue('token')).resolves.toBe(`token of ${account.account}`);
        for (const id of ids.get(account.account)!) await expect(account.get(id)).resolves.toMatchObject({ fields: { status: 'queued' } });
      }
      const claimed = await store.claimDue(1000, 60_000, 1000);
      expect(claimed).toHaveLength(12 * 8);
    } finally {
      await store.close();
    }
  }, 30_000);

  it('fails fast with a clear error when no node answers, or the server is not a cluster', async () => {
    const [a, b] = [await freePort(), await freePort()];
    const started = Date.now();
    await expect(RedisStore.connect({ clusterNodes: [`127.0.0.1:${a}`, `127.0.0.1:${b}`] })).rejects.toThrow(
      new RegExp(`^Cannot connect to the Redis Cluster at 127\\.0\\.0\\.1:${a}, 127\\.0\\.0\\.1:${b}: .*ECONNREFUSED`),
    );
    expect(Date.now() - started).toBeLessThan(3000);
    const single = await RedisServer.launch();
    try {
      await expect(RedisStore.connect({ clusterNodes: [`127.0.0.1:${single.port}`] })).rejects.toThrow(/cluster support disabled/);
    } finally {
      await single.stop();
    }
  });
});
