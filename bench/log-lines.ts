import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { createLogger, gatheredLines } from '../src/log/logger';
import { benchArgs } from './lib/args';
import { median } from './lib/stats';

const HELP = `npm run bench:log -- [options]   (each option also as an env variable, e.g. BENCH_LINES)
  --lines N      log lines per measurement (default 200000)
  --rounds R     measurements of each logger, alternated (default 3)
  --secrets S,…  how many secret values wxreach's logger knows, one run each (default 3,300,3000:
                 one account, a hundred, a thousand; three each: appsecret, AES key, server token)`;

/**
 * What one log line costs the service: wxreach's logger (pino with its fields redacted: by name, in
 * URLs, by value) writing the info line of a status change, beside pino alone writing the same
 * line (the bare limit). Both write as wxreach writes stdout (lines gathered a few KB at a time,
 * written synchronously), here to /dev/null, so what is measured is the process's own CPU per line.
 */
function options() {
  const a = benchArgs(HELP, { lines: { type: 'string', default: '200000' }, rounds: { type: 'string', default: '3' }, secrets: { type: 'string', default: '3,300,3000' } });
  const secrets = a.secrets.split(',').map((s) => Number(s));
  if (secrets.some((n) => !Number.isInteger(n) || n < 0)) throw new Error(`--secrets must be integers ≥ 0, got ${a.secrets}`);
  return { lines: a.int('lines'), rounds: a.int('rounds'), secrets };
}

type Write = (i: number) => void;

/** The status change's line, as Notifications writes it when a notice is accepted. */
const fieldsOf = (i: number) => ({ id: `n03${String(i).padStart(22, '0')}.wx0b1e2n3c4h5a6p7p`, openid: 'oBENCH_user_000123', template: 'order_paid' });
/** Where both loggers write: /dev/null, as wxreach writes stdout (gathered, src/log/logger.ts). */
const devNull = () => gatheredLines('/dev/null');

function wxreachLogger(secrets: number): Write {
  const log = createLogger({ level: 'info', stream: devNull(), secrets: Array.from({ length: secrets }, () => randomBytes(16).toString('hex')) });
  return (i) => log.info('notification accepted', fieldsOf(i));
}

function pinoAlone(): Write {
  const log = pino({ base: null, messageKey: 'message' }, devNull());
  return (i) => log.info(fieldsOf(i), 'notification accepted');
}

/** µs of this process's CPU per line over `lines` lines. */
function cpuPerLine(write: Write, lines: number): number {
  const before = process.cpuUsage();
  for (let i = 0; i < lines; i++) write(i);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / lines;
}

function main(): void {
  const o = options();
  console.log(`log line bench: ${o.lines} info lines per measurement, ${o.rounds} rounds alternated, lines gathered and written to /dev/null as wxreach writes stdout`);
  const runs: Array<[string, Write]> = [['pino alone (bare limit)', pinoAlone()], ...o.secrets.map((n): [string, Write] => [`wxreach, ${n} secrets known`, wxreachLogger(n)])];
  const results = runs.map(() => [] as number[]);
  for (const [, write] of runs) cpuPerLine(write, Math.min(o.lines, 20_000)); // warm-up
  for (let round = 0; round < o.rounds; round++) runs.forEach(([, write], k) => results[k].push(cpuPerLine(write, o.lines)));
  const bare = median(results[0]);
  runs.forEach(([name], k) => {
    const us = median(results[k]);
    console.log(`  ${name.padEnd(30)} ${us.toFixed(2)} µs of CPU per line (rounds: ${results[k].map((r) => r.toFixed(2)).join(', ')})${k > 0 ? `; ${(us / bare).toFixed(2)}× pino alone` : ''}`);
  });
}

main();
