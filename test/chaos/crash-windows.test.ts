/**
 * The crash windows the chaos run can only hit by luck, made deterministic: one wxreach service
 * (in-process, real Redis, the emulator) whose store fails or stalls at exactly one step, the way
 * a Redis crash or a SIGKILLed instance would leave it. Each test states the promise of issue 5
 * it checks ("each waiting notice is delivered exactly once ... when an instance dies half-way").
 */
import { capturedLogger } from '../helpers/logs';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config/load';
import type { Config } from '../../src/config/schema';
import { startEmulator, type EmulatorHandle, type EmulatorOptions } from '../../src/emulator';
import { startService, type Service } from '../../src/service';
import type { Store } from '../../src/store/store';
import { API_KEY, APP, TEMPLATES, USER, connectTestRedis } from '../helpers/harness';

type Hook = (method: string, args: unknown[]) => Promise<void> | void;

/** The store with `hook` run before every call: it may throw (the call never reached Redis) or stall. */
function withHook(store: Store, hook: { current: Hook }): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        await hook.current(String(prop), args);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

interface Rig {
  emulator: EmulatorHandle;
  service: Service;
  config: Config;
  /** Key prefix in Redis: a second service with it works on the same notifications. */
  prefix: string;
  hook: { current: Hook };
  logs(): string;
  enqueue(body: unknown): Promise<string>;
  get(id: string): Promise<Record<string, unknown>>;
  waitFor(id: string, status: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

async function startRig(emulatorOptions: EmulatorOptions = {}): Promise<Rig> {
  const emulator = await startEmulator({
    ...APP,
    receiptDelayMs: 20,
    seed: {
      users: [{ openid: USER, subscribed: true }],
      templates: Object.values(TEMPLATES).map((t) => ({ template_id: t.id, title: t.title, content: t.content })),
    },
    ...emulatorOptions,
  });
  // The template is gone before wxreach starts: no template call, straight to the fallback.
  emulator.control.deleteTemplate(TEMPLATES.order_paid.id);
  const base = loadConfig({});
  const config: Config = {
    ...base,
    port: 0,
    apiKeys: [API_KEY],
    wechat: { ...base.wechat, ...APP, apiBase: emulator.url, timeoutMs: 2000 },
    templates: { order_paid: { id: TEMPLATES.order_paid.id, fallback: 'Order {{order_no}} is paid: {{amount}}' } },
    retry: { maxAttempts: 3, baseDelayMs: 20 },
    worker: { ...base.worker, pollMs: 10, leaseMs: 1000 },
  };
  const prefix = `cw${randomBytes(4).toString('hex')}`;
  const store = await connectTestRedis(prefix);
  const hook: { current: Hook } = { current: () => undefined };
  const { log, text: logs } = capturedLogger();
  const service = await startService({ config, store: withHook(store, hook), log });
  emulator.control.setCallbackUrl(`${service.url}/wechat`);
  const auth = { authorization: `Bearer ${API_KEY}` };
  const rig: Rig = {
    emulator,
    service,
    config,
    prefix,
    hook,
    logs,
    async enqueue(body) {
      const res = await fetch(`${service.url}/v1/notifications`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify(body) });
      if (res.status !== 202) throw new Error(`enqueue: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { id: string }).id;
    },
    async get(id) {
      return (await (await fetch(`${service.url}/v1/notifications/${id}`, { headers: auth })).json()) as Record<string, unknown>;
    },
    async waitFor(id, status, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      let last: Record<string, unknown> = {};
      while (Date.now() < deadline) {
        last = await rig.get(id);
        if (last.status === status) return last;
        await new Promise((r) => setTimeout(r, 15));
      }
      throw new Error(`${id} did not reach ${status}: ${JSON.stringify(last)}`);
    },
    async close() {
      hook.current = () => undefined;
      await service.stop();
      await emulator.close();
      await store.close();
    },
  };
  return rig;
}

const notice = { openid: USER, template: 'order_paid', data: { order_no: 'CW-1', amount: '9.90' } };
const TEXT = 'Order CW-1 is paid: 9.90';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A failed promise of issue 5, with what happened, so the report reads without the code. */
function bug(holds: boolean, message: string, evidence: unknown): void {
  if (!holds) throw new Error(`BUG (wxreach, not the test): ${message}\nevidence: ${JSON.stringify(evidence, null, 1)}`);
}

describe('crash windows, deterministic', () => {
  let rig: Rig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('control: with no fault, the parked notice is the passive reply to the next interaction', async () => {
    rig = await startRig();
    const id = await rig.enqueue(notice);
    await rig.waitFor(id, 'awaiting_interaction');
    const { reply } = await rig.emulator.control.userSendsText(USER, 'hi, I am back');
    expect(reply).toBe(TEXT);
    expect((await rig.get(id)).status).toBe('fallback_sent');
    expect(rig.emulator.control.inbox(USER)).toEqual([expect.objectContaining({ channel: 'passive_reply', text: TEXT })]);
  });

  it('a notice parked while Redis drops the connection is still released by the next interaction', async () => {
    rig = await startRig();
    let failed = false;
    rig.hook.current = (method) => {
      // Redis goes away right after the status moved to awaiting_interaction, before the parked set got the id.
      if (method === 'addToSet' && !failed) {
        failed = true;
        throw new Error('Socket closed unexpectedly');
      }
    };
    const id = await rig.enqueue(notice); // never-seen user: CS call → 45015 → park
    await rig.waitFor(id, 'awaiting_interaction');
    await sleep(1500); // more than the lease: any retry the design has would have happened by now
    const { reply } = await rig.emulator.control.userSendsText(USER, 'hi, I am back');
    await sleep(300);
    const n = await rig.get(id);
    bug(
      reply === TEXT || n.status === 'fallback_sent',
      'a notice that reached awaiting_interaction but not the parked set (Dispatcher.park: transition, then a separate addToSet) ' +
        'is never released by the user coming back; it waits until window.parkSeconds (7 days) and ends failed/expired',
      { failedCall: failed, reply, status: n.status, inbox: rig.emulator.control.inbox(USER), history: n.history },
    );
  });

  it('a passive reply whose push fails after the notice was marked sent is not lost (Redis error mid-push)', async () => {
    rig = await startRig();
    const id = await rig.enqueue(notice);
    await rig.waitFor(id, 'awaiting_interaction');
    let failed = false;
    rig.hook.current = (method, args) => {
      // Redis goes away while the push is handled, after the notice moved to fallback_sent (passive_reply).
      if (method === 'setValue' && String(args[0]).startsWith('reply:') && !failed) {
        failed = true;
        throw new Error('Socket closed unexpectedly');
      }
    };
    const result = await rig.emulator.control.userSendsText(USER, 'hi, I am back'); // the emulator re-sends on the 500
    await sleep(300);
    const n = await rig.get(id);
    const inbox = rig.emulator.control.inbox(USER);
    bug(
      !(n.status === 'fallback_sent' && inbox.length === 0),
      'PushHandler: the notice was moved to fallback_sent/passive_reply, then a later store call of the same push failed; ' +
        'the 500 carried no reply, WeChat\'s re-send found nothing parked, and the notice is marked sent but never reached the user',
      { failedCall: failed, reply: result.reply, status: n.status, channel: n.channel, inbox, history: n.history },
    );
  });

  it('a passive reply is not lost when the instance dies before answering and WeChat re-sends the push', async () => {
    rig = await startRig({ callbackTimeoutMs: 400 });
    const id = await rig.enqueue(notice);
    await rig.waitFor(id, 'awaiting_interaction');
    let release: () => void = () => undefined;
    const stalled = new Promise<void>((r) => (release = r));
    let stalls = 0;
    rig.hook.current = async (method, args) => {
      // The instance "dies" right after moving the notice: its answer never leaves (the call hangs).
      if (method === 'setValue' && String(args[0]).startsWith('reply:') && stalls++ === 0) await stalled;
    };
    try {
      const result = await rig.emulator.control.userSendsText(USER, 'hi, I am back'); // times out, re-sent: "another instance"
      const n = await rig.get(id);
      const inbox = rig.emulator.control.inbox(USER);
      bug(
        !(n.status === 'fallback_sent' && inbox.length === 0),
        'PushHandler: the first delivery of the push moved the notice to fallback_sent (passive_reply) and died before ' +
          'storing/answering the reply; the re-send is a duplicate (firstSeen) with no stored reply, answers "success", ' +
          'and the notice is marked sent but never reached the user',
        { reply: result.reply, status: n.status, channel: n.channel, inbox, history: n.history },
      );
    } finally {
      release();
    }
  });

  it('two instances never both send the customer-service text of one notice (one stalls longer than the lease)', async () => {
    rig = await startRig();
    const r = rig;
    await r.emulator.control.userSendsText(USER, 'hi'); // window open: 5 messages
    r.emulator.control.setFaults({ latencyMs: 500, paths: ['/cgi-bin/message/custom/send'] });
    // Instance A stalls (GC pause, Redis reconnect, event loop stuck) after reading the notice, before marking its call.
    let releaseA: () => void = () => undefined;
    const aGoes = new Promise<void>((res) => (releaseA = res));
    let aStalled: () => void = () => undefined;
    const stalledA = new Promise<void>((res) => (aStalled = res));
    let takes = 0;
    r.hook.current = async (method) => {
      if (method === 'takeAllowance' && takes++ === 0) {
        aStalled();
        await aGoes;
      }
    };
    const id = await r.enqueue(notice);
    await stalledA;
    // Instance B on the same Redis: the lease runs out, B claims the notice, marks its call and sends.
    const storeB = await connectTestRedis(r.prefix);
    const hookB: { current: Hook } = {
      current: (method, args) => {
        const set = (args[1] as { set?: Record<string, string> } | undefined)?.set;
        if (method === 'transition' && set?.csCallAt) setTimeout(releaseA, 100); // A wakes while B's call is in flight
      },
    };
    const serviceB = await startService({ config: r.config, store: withHook(storeB, hookB), log: capturedLogger('error').log });
    try {
      const deadline = Date.now() + 8000;
      let n = await r.get(id);
      while (!['fallback_sent', 'failed'].includes(String(n.status)) && Date.now() < deadline) {
        await sleep(50);
        n = await r.get(id);
      }
      await sleep(1000); // let the other call finish too
      n = await r.get(id);
      const cs = r.emulator.control.inbox(USER).filter((e) => e.channel === 'customer_service');
      bug(
        cs.length <= 1,
        'FallbackSender.send marks the call (csCallAt) with a compare-and-set on the status only; two instances that ' +
          'both read the notice before either marked it both pass the CAS and both call custom/send (no idempotency at WeChat)',
        { customerServiceEntries: cs, status: n.status, channel: n.channel, reason: n.reason, history: n.history },
      );
    } finally {
      releaseA();
      await serviceB.stop();
      await storeB.close();
    }
  });
});
