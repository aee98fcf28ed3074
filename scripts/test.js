#!/usr/bin/env node
// `npm test`: builds the server (the end-to-end tests run dist/ as a real process), starts a
// throwaway redis-server on a free port unless TEST_REDIS_URL is set, runs jest, stops redis.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

async function waitForRedis(port, deadline) {
  while (Date.now() < deadline) {
    const ok = await new Promise((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      sock.once('connect', () => {
        sock.write('PING\r\n');
        sock.once('data', (d) => { sock.destroy(); resolve(d.toString().startsWith('+PONG')); });
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not answer PING on port ${port}`);
}

async function startRedis() {
  if (!onPath('redis-server')) {
    console.error(
      'npm test needs redis-server on PATH (or TEST_REDIS_URL pointing at a Redis it may flush).\n' +
        'Install it with: sudo apt-get install -y redis-server   (Debian/Ubuntu)\n' +
        '             or: brew install redis                     (macOS)',
    );
    process.exit(1);
  }
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wxreach-test-redis-'));
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
      '--logfile', path.join(dir, 'redis.log'), '--daemonize', 'no'],
    { stdio: 'ignore' },
  );
  await waitForRedis(port, Date.now() + 10000);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    url: `redis://127.0.0.1:${port}`,
    // Wait for redis-server to finish writing its log before removing its folder; a leftover temp
    // folder must never fail the run.
    stop: async () => {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      try {
        fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
      } catch (err) {
        console.warn(`could not remove ${dir}: ${err.message}`);
      }
    },
  };
}

async function main() {
  const build = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);

  let redis = null;
  if (!process.env.TEST_REDIS_URL) redis = await startRedis();
  const env = { ...process.env, TEST_REDIS_URL: process.env.TEST_REDIS_URL ?? redis.url };
  const jest = spawn(process.execPath, [require.resolve('jest/bin/jest'), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit', env });
  const stop = async () => {
    const r = redis;
    redis = null;
    if (r) await r.stop();
  };
  process.on('SIGINT', () => {
    jest.kill('SIGINT');
    void stop();
  });
  jest.on('exit', (code, signal) => {
    void stop().then(() => process.exit(code ?? (signal ? 1 : 0)));
  });
}

main().catch((err) => { console.error(err); process.exit(1); });
