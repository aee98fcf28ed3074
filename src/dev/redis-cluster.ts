import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from 'redis';
import { freePort } from './free-port';
import { RedisServer } from './redis-server';

export interface RedisClusterOptions {
  /** Number of masters (no replicas). Default 3, the fewest `redis-cli --cluster create` accepts. */
  masters?: number;
  /** Parent folder of the nodes' folders (`node-0`, …; each must be new). Default: a fresh temp folder that `stop()` removes; a given folder is kept. */
  dir?: string;
  /**
   * As for RedisServer. `aof` uses appendfsync always: each write is in the file, fsynced, before
   * Redis answers it, so a killed master restarts with every write it acknowledged. (With everysec
   * Redis keeps answering while it postpones writing the file behind a slow fsync, for up to 2 s: a
   * SIGKILL then loses acknowledged writes, which a chaos run would count as lost notices.)
   * Default `none`.
   */
  persistence?: 'none' | 'aof';
  /** Called when a node exits though nobody killed or stopped it. */
  onUnexpectedExit?: (description: string) => void;
}

const READY_TIMEOUT_MS = 20_000;

/** Free ports that differ from each other (each node needs a client port and a cluster bus port). */
async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** `CLUSTER INFO` of the node on `port` as a map, or null while it does not answer. */
async function clusterInfo(port: number): Promise<Map<string, string> | null> {
  const client = createClient({ socket: { port, host: '127.0.0.1', reconnectStrategy: false } });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const info = String(await client.clusterInfo());
    return new Map(info.split(/\r?\n/).map((line) => line.split(':', 2) as [string, string]));
  } catch {
    return null;
  } finally {
    client.destroy();
  }
}

/** Runs `redis-cli` with `args`; resolves with its output, rejects with it when it fails. */
function redisCli(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', (err) => reject(new Error(`cannot run redis-cli (${err.message}): it comes with redis-server`)));
    child.once('exit', (code) => (code === 0 ? resolve(output) : reject(new Error(`redis-cli ${args.join(' ')} failed (code ${code}):\n${output}`))));
  });
}

/**
 * A private Redis Cluster of `masters` redis-server children on 127.0.0.1, for tests, benchmarks and
 * the chaos run: each node runs in cluster mode in its own folder, the cluster is made with
 * `redis-cli --cluster create`, and a master can be killed and restarted on the same port and folder
 * (it rejoins with its data and its slots, as nodes.conf in its folder remembers them).
 */
export class RedisCluster {
  private constructor(
    private readonly servers: RedisServer[],
    readonly dir: string,
    private readonly ownsDir: boolean,
  ) {}

  /** Starts the nodes, creates the cluster, and resolves once every node says the cluster is ok. */
  static async launch(options: RedisClusterOptions = {}): Promise<RedisCluster> {
    const { masters = 3, persistence = 'none', onUnexpectedExit } = options;
    if (!Number.isInteger(masters) || masters < 3) throw new RangeError(`a Redis Cluster needs at least 3 masters, got ${masters}`);
    if (options.dir) mkdirSync(options.dir, { recursive: true });
    const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), 'wxreach-cluster-'));
    const ports = await distinctFreePorts(masters * 2);
    const launched = await Promise.allSettled(
      Array.from({ length: masters }, (_, i) =>
        RedisServer.launch({
          port: ports[2 * i],
          dir: path.join(dir, `node-${i}`),
          persistence,
          onUnexpectedExit,
          args: [
            '--cluster-enabled', 'yes',
            '--cluster-config-file', 'nodes.conf',
            // the bus port is given, not port + 10000, which may be taken or past 65535
            '--cluster-port', String(ports[2 * i + 1]),
            // without replicas nothing takes over a master that is down: the others keep serving
            // their own slots meanwhile, rather than the whole cluster refusing every call
            '--cluster-require-full-coverage', 'no',
          ],
        }),
      ),
    );
    const servers = launched.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const cluster = new RedisCluster(servers, dir, !options.dir);
    try {
      const failed = launched.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
      await redisCli(['--cluster', 'create', ...cluster.nodes, '--cluster-replicas', '0', '--cluster-yes']);
      await cluster.untilOk();
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** Every node as "127.0.0.1:port" (what RedisStore's `clusterNodes` takes). */
  get nodes(): string[] {
    return this.servers.map((server) => `127.0.0.1:${server.port}`);
  }

  /** Resolves once every node reports the cluster ok and knows all the others. */
  private async untilOk(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (const server of this.servers) {
      for (;;) {
        const info = await clusterInfo(server.port);
        if (info?.get('cluster_state') === 'ok' && Number(info.get('cluster_known_nodes')) === this.servers.length) break;
        if (Date.now() > deadline) throw new Error(`the Redis Cluster is not ok within ${READY_TIMEOUT_MS} ms (node ${server.port}: ${info?.get('cluster_state') ?? 'no answer'}); see ${server.logFile}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  /** SIGKILL of master `i`, like a crash; resolves once the process is gone. */
  kill(i: number): Promise<void> {
    return this.server(i).kill();
  }

  /** Starts master `i` again (after `kill`) on its port and folder; resolves once the cluster is ok again. */
  async restart(i: number): Promise<void> {
    await this.server(i).restart();
    await this.untilOk();
  }

  private server(i: number): RedisServer {
    const server = this.servers[i];
    if (!server) throw new RangeError(`no master ${i} (the cluster has ${this.servers.length})`);
    return server;
  }

  /** Stops every node; the folder goes if it was a temp one. */
  async stop(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.stop()));
    if (!this.ownsDir) return;
    try {
      rmSync(this.dir, { recursive: true, force: true, maxRetries: 3 });
    } catch (err) {
      console.warn(`could not remove ${this.dir}: ${(err as Error).message}`);
    }
  }
}
