#!/usr/bin/env node
// `npm test`: builds the server (the end-to-end tests run dist/ as a real process), starts a
// throwaway redis-server on a free port unless TEST_REDIS_URL is set, runs jest, stops redis.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

async function main() {
  const build = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);

  // The launcher is TypeScript: the build above has just compiled it.
  const { RedisServer } = require(path.join(root, 'dist/src/dev/redis-server.js'));
  let redis = null;
  if (!process.env.TEST_REDIS_URL) {
    try {
      redis = await RedisServer.launch();
    } catch (err) {
      console.error(`npm test needs redis-server (or TEST_REDIS_URL pointing at a Redis it may flush):\n${err.message}`);
      process.exit(1);
    }
  }
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
