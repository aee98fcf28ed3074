import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { startEmulator } from '../src/emulator';
import { keepAliveAgent } from './lib/pool';
import { describeLatencies } from './lib/stats';

/**
 * How many template sends per second the emulator sustains, so it is never the bottleneck of a
 * wxreach benchmark. In-process emulator, keep-alive undici Agent, N concurrent senders, no
 * receipts by default; BENCH_RECEIPTS=1 sends them to a cheap in-process sink answering `success`.
 *   BENCH_SECONDS (default 10), BENCH_CONCURRENCY (default 64)
 */
async function main(): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 64);
  const sink = process.env.BENCH_RECEIPTS === '1' ? createServer((_req, res) => res.end('success')) : undefined;
  if (sink) await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const callbackUrl = sink && `http://127.0.0.1:${(sink.address() as AddressInfo).port}/wechat`;
  const emu = await startEmulator({ dailyTemplateQuota: 1e9, callbackUrl, receiptDelayMs: 0 });
  const users = Array.from({ length: 1000 }, (_, i) => `oBENCH${i}`);
  for (const openid of users) emu.control.addUser({ openid });
  const template_id = emu.control.addTemplate({ title: '订单通知', content: '{{first.DATA}}\n订单：{{keyword1.DATA}}\n状态：{{keyword2.DATA}}\n{{remark.DATA}}' });
  const agent = keepAliveAgent(concurrency);

  const tokenRes = await request(`${emu.url}/cgi-bin/token?grant_type=client_credential&appid=wxd0e1m2o3a4p5p6i7&secret=emulator-demo-secret`, { dispatcher: agent });
  const { access_token } = (await tokenRes.body.json()) as { access_token: string };
  const url = `${emu.url}/cgi-bin/message/template/send?access_token=${access_token}`;

  const latencies: number[] = [];
  let errors = 0;
  let n = 0;
  const deadline = Date.now() + seconds * 1000;
  const worker = async () => {
    while (Date.now() < deadline) {
      const body = JSON.stringify({ touser: users[n++ % users.length], template_id, data: { keyword1: { value: `A-${n}` }, keyword2: { value: '已发货' } } });
      const t0 = process.hrtime.bigint();
      const res = await request(url, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher: agent });
      const text = await res.body.text();
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (!text.startsWith('{"errcode":0,')) errors++;
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (Date.now() - started) / 1000;
  console.log(`template sends: ${latencies.length} in ${elapsed.toFixed(1)} s, concurrency ${concurrency}, errors ${errors}, receipts ${callbackUrl ? 'on' : 'off'}`);
  console.log(`throughput: ${Math.round(latencies.length / elapsed)} sends/s; latency ${describeLatencies(latencies, [50, 99])}`);
  await agent.close();
  if (callbackUrl) console.log(`receipts delivered: ${emu.control.stats().callbacks.delivered}`);
  await emu.close();
  if (sink) {
    sink.closeAllConnections();
    sink.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
