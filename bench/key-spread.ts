import { createClient } from 'redis';
import { RedisCluster } from '../src/dev/redis-cluster';
import { RedisStore } from '../src/store/redis-store';
import type { AccountStore, HistoryEntry } from '../src/store/store';
import { benchArgs } from './lib/args';

const HELP = `npm run bench:keys -- [options]   (each option also as an env variable, e.g. BENCH_ACCOUNTS)
  --accounts A    Official Accounts (default 100)
  --notices N     notices per account (default 200)
  --users U       users per account (default 50)
  --shards S      shards per account (default 8)
  --masters M     cluster masters (default 3)`;

const DAY = 86_400;
const entry = (status: string): HistoryEntry => ({ at: new Date().toISOString(), status, detail: '' });

/**
 * Where the store's keys land on a Redis Cluster: a local cluster of M masters, A accounts with N
 * notices each for U users (records with their histories and due times, msgid links, an idempotency
 * key, a parked notice per user, windows and pushes per user, account values), then DBSIZE of each
 * master and its share. Every script is single-slot, so the spread comes from the tags alone:
 * accounts, and the users of one account, over all masters.
 */
async function main(): Promise<void> {
  const a = benchArgs(HELP, {
    accounts: { type: 'string', default: '100' },
    notices: { type: 'string', default: '200' },
    users: { type: 'string', default: '50' },
    shards: { type: 'string', default: '8' },
    masters: { type: 'string', default: '3' },
  });
  const [accounts, notices, users, shards, masters] = [a.int('accounts'), a.int('notices'), a.int('users'), a.int('shards'), a.int('masters', 3)];
  console.log(`key spread: ${accounts} accounts × ${notices} notices for ${users} users each, ${shards} shards per account, a local cluster of ${masters} masters`);
  const cluster = await RedisCluster.launch({ masters });
  const store = await RedisStore.connect({ clusterNodes: cluster.nodes, shardsPerAccount: shards });
  try {
    const t0 = Date.now();
    for (let i = 0; i < accounts; i++) await fill(store.forAccount(`wxbench${String(i).padStart(8, '0')}`), notices, users);
    await store.deployment.setValue('component_verify_ticket', 'ticket');
    console.log(`written in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);

    const rows = await Promise.all(
      cluster.nodes.map(async (node) => {
        const client = createClient({ url: `redis://${node}`, socket: { reconnectStrategy: false } });
        client.on('error', () => undefined);
        await client.connect();
        try {
          return { node, keys: await client.dbSize(), slots: ownSlots(String(await client.clusterNodes())) };
        } finally {
          client.destroy();
        }
      }),
    );
    const total = rows.reduce((sum, row) => sum + row.keys, 0);
    console.log(`${'master'.padEnd(22)}${'slots'.padStart(7)}${'keys'.padStart(10)}${'share'.padStart(9)}`);
    for (const row of rows) {
      console.log(`${row.node.padEnd(22)}${String(row.slots).padStart(7)}${String(row.keys).padStart(10)}${`${((100 * row.keys) / total).toFixed(1)} %`.padStart(9)}`);
    }
    console.log(`${'total'.padEnd(22)}${String(total).padStart(10)}`);
    const counts = rows.map((row) => row.keys);
    console.log(`\nlargest / smallest master: ${(Math.max(...counts) / Math.min(...counts)).toFixed(3)} (1.000 = even)`);
  } finally {
    await store.close();
    await cluster.stop();
  }
}

/** How many slots the node answering CLUSTER NODES serves (its `myself` line ends with its slot ranges). */
function ownSlots(clusterNodes: string): number {
  const myself = clusterNodes.split('\n').find((line) => line.includes('myself')) ?? '';
  return myself
    .split(' ')
    .slice(8)
    .map((range) => range.split('-').map(Number))
    .reduce((sum, [from, to = from]) => sum + to - from + 1, 0);
}

/** One account's notices and its users' state, 200 writes in flight at a time. */
async function fill(account: AccountStore, notices: number, users: number): Promise<void> {
  const now = Date.now();
  const user = (i: number) => `oBENCH-${account.account}-${i % users}`;
  const writes: (() => Promise<unknown>)[] = [
    () => account.setValue('access_token', 'token', 7_200_000),
    () => account.setHash('templates', { order_paid: 'TPL' }),
  ];
  for (let i = 0; i < notices; i++) {
    writes.push(async () => {
      const id = account.newId(user(i));
      await account.create(id, { status: 'queued', openid: user(i) }, entry('queued'), { ttlSeconds: DAY, dueAt: now, idempotency: { key: `client:${i}`, fingerprint: 'f' } });
      await account.move(id, { from: ['queued'], to: 'awaiting_receipt', history: entry('awaiting_receipt'), dueAt: now + 60_000 });
      await account.linkMsgid(`${3147483654123456789n + BigInt(i)}`, id, DAY);
      if (i < users) await account.park(id, { from: ['awaiting_receipt'], to: 'parked' }, { owner: user(i), score: i, ttlSeconds: DAY, until: Date.now() + 3_600_000 });
    });
  }
  for (let i = 0; i < users; i++) {
    writes.push(async () => {
      await account.openWindow(user(i), 'message', 5, now + 48 * 3_600_000, 60);
      await account.firstSeenPush(user(i), `msg:${i}`, DAY);
      await account.keepPushSeen(user(i), `msg:${i}`, DAY);
    });
  }
  for (let start = 0; start < writes.length; start += 200) await Promise.all(writes.slice(start, start + 200).map((write) => write()));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
