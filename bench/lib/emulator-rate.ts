import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { startEmulator } from '../../src/emulator';
import { DEMO_ACCOUNT } from '../../src/emulator/options';
import { keepAliveAgent } from './pool';

export interface EmulatorRate {
  sends: number;
  seconds: number;
  perSecond: number;
  errors: number;
  /** Per send, in ms (unsorted). */
  latencies: number[];
  /** Receipts the emulator delivered to the sink (0 without receipts). */
  receipts: number;
}

/**
 * How many template sends per second an emulator of its own sustains, driven by `concurrency`
 * senders on a keep-alive pool: the ceiling a wxreach bench's template path can reach on this
 * machine. With `receipts`, each send's TEMPLATESENDJOBFINISH goes to a sink answering `success`.
 */
export async function measureEmulatorRate(o: { seconds: number; concurrency: number; receipts: boolean }): Promise<EmulatorRate> {
  const sink = o.receipts ? createServer((_req, res) => res.end('success')) : undefined;
  if (sink) await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const callbackUrl = sink && `http://127.0.0.1:${(sink.address() as AddressInfo).port}/wechat`;
  const emu = await startEmulator({ dailyTemplateQuota: 1e9, callbackUrl, receiptDelayMs: 0 });
  const agent = keepAliveAgent(o.concurrency);
  try {
    const users = Array.from({ length: 1000 }, (_, i) => `oBENCH${i}`);
    for (const openid of users) emu.control.addUser({ openid });
    const template_id = emu.control.addTemplate({ title: '订单通知', content: '{{first.DATA}}\n订单：{{keyword1.DATA}}\n状态：{{keyword2.DATA}}\n{{remark.DATA}}' });
    const tokenRes = await request(`${emu.url}/cgi-bin/token?grant_type=client_credential&appid=${DEMO_ACCOUNT.appId}&secret=${DEMO_ACCOUNT.appSecret}`, { dispatcher: agent });
    const { access_token } = (await tokenRes.body.json()) as { access_token: string };
    const url = `${emu.url}/cgi-bin/message/template/send?access_token=${access_token}`;
    const latencies: number[] = [];
    let errors = 0;
    let n = 0;
    const deadline = Date.now() + o.seconds * 1000;
    const sender = async () => {
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
    await Promise.all(Array.from({ length: o.concurrency }, sender));
    const seconds = (Date.now() - started) / 1000;
    return { sends: latencies.length, seconds, perSecond: Math.round(latencies.length / seconds), errors, latencies, receipts: emu.control.stats().callbacks.delivered };
  } finally {
    await agent.close();
    await emu.close();
    if (sink) {
      sink.closeAllConnections();
      sink.close();
    }
  }
}
