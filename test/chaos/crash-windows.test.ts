/**
 * The crash windows the chaos run can only hit by luck, made deterministic: one wxreach service
 * (in-process, real Redis, the emulator) whose store fails or stalls at exactly one call, the way
 * a Redis crash or a SIGKILLed instance would leave it. Every fault records that it caught its call
 * and every test asserts that it did: a fault on a call the code no longer makes proves nothing.
 *
 * The promise checked (README, "Guarantees"): each notice ends terminal, no channel reaches the
 * user twice, and no notice is marked sent without having reached the user.
 */
import { capturedLogger } from '../helpers/logs';
import { randomBytes } from 'node:crypto';
import { TERMINAL } from '../../src/delivery/lifecycle';
import type { EmulatorOptions, InboxEntry } from '../../src/emulator';
import { startService } from '../../src/service';
import type { RecordMove, Store } from '../../src/store/store';
import { StoreUnavailableError } from '../../src/store/unavailable';
import { hookedStore, type StoreHook } from '../helpers/store-proxy';
import { TEMPLATES, USER, connectTestRedis, startHarness, type Harness } from '../helpers/harness';

/** Sees every store call; `call` sends it to Redis. It may throw, stall, or call through and then throw. */
type Hook = StoreHook;
const passThrough: Hook = (_method, _args, call) => call();

const withHook = (store: Store, hook: { current: Hook }): Store => hookedStore(store, (method, args, call) => hook.current(method, args, call));

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

type Match = (method: string, args: unknown[]) => boolean;
/** What a fault does to the call it caught. */
type Act = (call: () => Promise<unknown>) => Promise<unknown>;

interface Fault {
  hook: Hook;
  /** Whether the fault caught its call; every test asserts it. */
  readonly fired: boolean;
  /** Waits until the fault caught its call, at most `ms` (then `fired` stays false). */
  caught(ms: number): Promise<void>;
}

/** Does `act` to the first call that matches; every other call goes through. */
function faultOnce(match: Match, act: Act): Fault {
  let fired = false;
  let onFire: () => void = () => undefined;
  const firing = new Promise<void>((resolve) => (onFire = resolve));
  return {
    get fired() {
      return fired;
    },
    caught: (ms) => Promise.race([firing, new Promise<void>((resolve) => setTimeout(resolve, ms).unref())]),
    hook: (method, args, call) => {
      if (fired || !match(method, args)) return call();
      fired = true;
      onFire();
      return act(call);
    },
  };
}

/** The one store call of a move that parks a notice, or that makes it the passive reply. */
const storeCall = (method: 'park' | 'releaseAsReply'): Match => (called) => called === method;

type Point = 'before' | 'after';
const lostConnection = () => new Error('Socket closed unexpectedly');

/** The connection breaks before Redis ran the call (nothing changed), or after (changed, the answer lost). */
const breakConnection: Record<Point, Act> = {
  before: () => Promise.reject(lostConnection()),
  after: async (call) => {
    await call();
    throw lostConnection();
  },
};

/**
 * The instance dies at the call, before or after Redis ran it: the call never returns, so nothing
 * that follows it happens and no answer leaves. `bury` ends the dead request once the test is done.
 */
function death(point: Point): { act: Act; bury(): void } {
  let wake: () => void = () => undefined;
  return {
    act: async (call) => {
      if (point === 'after') await call();
      await new Promise<void>((resolve) => (wake = resolve));
      throw new Error('the instance died here');
    },
    bury: () => wake(),
  };
}

interface Rig extends Omit<Harness, 'enqueue'> {
  /** Key prefix in Redis: a second service with it works on the same notifications. */
  prefix: string;
  /** Puts `act` on the first store call of this service that matches. */
  inject(match: Match, act: Act): Fault;
  /** While away, every store call fails unreachable, as when the Redis (or cluster master) holding the data is down. */
  storeAway(away: boolean): void;
  /** POST /v1/notifications; the new id (throws on anything but 202). */
  enqueue(body: unknown): Promise<string>;
}

async function startRig(emulator: EmulatorOptions = {}): Promise<Rig> {
  const prefix = `cw${randomBytes(4).toString('hex')}`;
  const hook = { current: passThrough };
  let away = false;
  const gate: { current: Hook } = {
    current: (method, args, call) => (away ? Promise.reject(new StoreUnavailableError(`Redis failed ${method}: the test took it away`)) : hook.current(method, args, call)),
  };
  const h = await startHarness({
    emulator,
    // The template is gone before wxreach starts: no template call, straight to the fallback.
    templates: { order_paid: { ...TEMPLATES.order_paid, fallback: 'Order {{order_no}} is paid: {{amount}}', deletedAtWechat: true } },
    config: (c) => ({ ...c, worker: { ...c.worker, leaseMs: 1000 } }),
    redisPrefix: prefix,
    wrapStore: (store) => withHook(store, gate),
  });
  return {
    ...h,
    prefix,
    inject(match, act) {
      const fault = faultOnce(match, act);
      hook.current = fault.hook;
      return fault;
    },
    storeAway(on) {
      away = on;
    },
    async enqueue(body) {
      const res = await h.enqueue(body);
      if (res.status !== 202) throw new Error(`enqueue: ${res.status} ${JSON.stringify(res.body)}`);
      return String(res.body.id);
    },
    async close() {
      hook.current = passThrough;
      away = false;
      await h.close();
    },
  };
}

const notice = { openid: USER, template: 'order_paid', data: { order_no: 'CW-1', amount: '9.90' } };
const TEXT = 'Order CW-1 is paid: 9.90';

/** The user writes: the passive reply WeChat got, the notice as it is then, and the user's inbox. */
async function userComesBack(r: Rig, id: string) {
  const { reply } = await r.emulator.control.userSendsText(USER, 'hi, I am back');
  return { reply, n: await r.get(id), inbox: r.emulator.control.inbox(USER) };
}

/** A broken promise, with what happened, so the report reads without the code. */
function bug(holds: boolean, message: string, evidence: unknown): void {
  if (!holds) throw new Error(`BUG (wxreach, not the test): ${message}\nevidence: ${JSON.stringify(evidence, null, 1)}`);
}

/** The promise every crash window must keep, read from the notice and the user's inbox. */
function promiseKept(n: Record<string, unknown>, inbox: InboxEntry[], scene: string): void {
  const perChannel = new Map<string, number>();
  for (const e of inbox) perChannel.set(e.channel, (perChannel.get(e.channel) ?? 0) + 1);
  const doubled = [...perChannel.values()].some((count) => count > 1);
  const sentUnseen = n.status === 'fallback_sent' && !perChannel.has(String(n.channel));
  bug(
    (TERMINAL as ReadonlySet<string>).has(String(n.status)) && !doubled && !sentUnseen,
    `${scene}: the notice must end terminal, reach the user at most once per channel, and be marked sent only when it reached the user`,
    { status: n.status, reason: n.reason, channel: n.channel, inbox, history: n.history },
  );
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

  // Parking (status, schedule and the user's parked set) is one atomic step: a crash can no longer
  // leave a notice waiting but missing from the parked set. What is left is the step failing whole.

  it('parking fails after Redis ran it (the answer lost): the next interaction still releases the notice, once', async () => {
    rig = await startRig();
    const fault = rig.inject(storeCall('park'), breakConnection.after);
    const id = await rig.enqueue(notice); // never-seen user: customer-service call → 45015 → park
    await rig.waitFor(id, 'awaiting_interaction');
    await sleep(1500); // more than the lease: a retry of the failed step would have happened by now
    const { reply, n, inbox } = await userComesBack(rig, id);
    expect(fault.fired).toBe(true);
    bug(
      reply === TEXT && n.status === 'fallback_sent' && n.channel === 'passive_reply',
      'a notice parked by a step whose answer was lost is not released by the user coming back',
      { reply, status: n.status, channel: n.channel, inbox, history: n.history },
    );
    promiseKept(n, inbox, 'parking answered with a lost connection');
  });

  it('parking fails before Redis ran it: the notice still ends terminal, nothing sent twice', async () => {
    rig = await startRig();
    const fault = rig.inject(storeCall('park'), breakConnection.before);
    const id = await rig.enqueue(notice); // never-seen user: customer-service call → 45015 → park
    await fault.caught(5000);
    expect(fault.fired).toBe(true);
    // The call's 45015 could not be recorded: to the store a customer-service call is still in
    // flight, so once its time is up the notice ends `failed` (`outcome_unknown`), as any call
    // whose answer was not recorded does: never sent twice, never left waiting.
    const n = await rig.waitFor(id, TERMINAL, 12_000);
    promiseKept(n, rig.emulator.control.inbox(USER), 'parking failed before reaching Redis');
  });

  // Becoming the passive reply (status, un-parking and the reply remembered for this push) is one
  // atomic step: a crash can no longer leave the notice marked sent with no reply remembered for
  // WeChat's re-send. What is left is the step failing whole, and the instance dying around it.

  it.each(['before', 'after'] as const)(
    'the move to the passive reply fails %s Redis ran it: the push is still answered with the notice, once',
    async (point) => {
      rig = await startRig();
      const id = await rig.enqueue(notice);
      await rig.waitFor(id, 'awaiting_interaction');
      const fault = rig.inject(storeCall('releaseAsReply'), breakConnection[point]);
      // before: the push answers 500 and is forgotten, so WeChat's re-send makes the move;
      // after: the push answers with the reply the move remembered.
      const { reply, n, inbox } = await userComesBack(rig, id);
      expect(fault.fired).toBe(true);
      bug(
        reply === TEXT && n.status === 'fallback_sent' && n.channel === 'passive_reply',
        `the push whose passive-reply step failed ${point} Redis ran it did not carry the parked notice`,
        { reply, status: n.status, channel: n.channel, inbox, history: n.history },
      );
      promiseKept(n, inbox, `the passive-reply step failed ${point} Redis ran it`);
    },
  );

  it('the store goes away right after the move to the passive reply, a second notice parked: the push still carries the first, the second still goes out', async () => {
    rig = await startRig();
    const r = rig;
    const first = await r.enqueue(notice);
    await r.waitFor(first, 'awaiting_interaction');
    const second = await r.enqueue({ ...notice, data: { order_no: 'CW-2', amount: '1.00' } });
    await r.waitFor(second, 'awaiting_interaction');
    // The Redis holding the user's data dies just after it ran the move: releasing the second
    // notice, and everything after, finds it gone (the moment a SIGKILLed cluster master hit).
    const fault = r.inject(storeCall('releaseAsReply'), async (call) => {
      const moved = await call();
      r.storeAway(true);
      return moved;
    });
    const { reply } = await r.emulator.control.userSendsText(USER, 'hi, I am back');
    expect(fault.fired).toBe(true);
    r.storeAway(false);
    const n = await r.get(first);
    bug(
      reply === TEXT,
      'the push whose parked notice had just become its passive reply was answered without it (kept in the push journal, answered `success`): the notice is marked sent by passive reply and never reaches the user',
      { reply, status: n.status, channel: n.channel, inbox: r.emulator.control.inbox(USER), history: n.history },
    );
    const inboxOf = (text: string) => r.emulator.control.inbox(USER).filter((e) => e.text === text);
    promiseKept(n, inboxOf(TEXT), 'the store went away right after the passive-reply step');
    // The user wrote, so the window is open: the second notice goes out through customer service
    // once the store is back, without waiting for another interaction.
    const n2 = await r.waitFor(second, TERMINAL, 5000).catch(async () => r.get(second));
    bug(n2.status === 'fallback_sent', 'the other parked notice of that push stays parked after the store came back, though the window is open', {
      status: n2.status,
      history: n2.history,
    });
    promiseKept(n2, inboxOf('Order CW-2 is paid: 1.00'), 'the second parked notice of that push');
  });

  it.each(['before', 'after'] as const)(
    'the instance dies %s the move to the passive reply reached Redis and WeChat re-sends the push: the notice reaches the user once',
    async (point) => {
      rig = await startRig({ callbackTimeoutMs: 400 });
      const id = await rig.enqueue(notice);
      await rig.waitFor(id, 'awaiting_interaction');
      const dying = death(point);
      const fault = rig.inject(storeCall('releaseAsReply'), dying.act);
      try {
        // The first delivery gets no answer and times out; the re-send is a duplicate ("another instance").
        const resent = await rig.emulator.control.userSendsText(USER, 'hi, I am back');
        const afterResend = await rig.get(id);
        expect(fault.fired).toBe(true);
        if (point === 'after') {
          bug(resent.reply === TEXT, 'the re-send of a push whose notice became the passive reply is not answered with it', {
            reply: resent.reply,
            status: afterResend.status,
            history: afterResend.history,
          });
        } else {
          // Nothing moved: the notice is still parked, and the user's next interaction carries it.
          bug(afterResend.status === 'awaiting_interaction', 'a move that never reached Redis changed the notice', afterResend);
          const next = await rig.emulator.control.userSendsText(USER, 'hello?');
          expect(next.reply).toBe(TEXT);
        }
        const n = await rig.get(id);
        const inbox = rig.emulator.control.inbox(USER);
        expect(n).toMatchObject({ status: 'fallback_sent', channel: 'passive_reply' });
        promiseKept(n, inbox, `the instance died ${point} the passive-reply step reached Redis`);
      } finally {
        dying.bury();
      }
    },
  );

  it('two instances never both send the customer-service text of one notice (one stalls longer than the lease)', async () => {
    rig = await startRig();
    const r = rig;
    await r.emulator.control.userSendsText(USER, 'hi'); // window open: 5 messages
    r.emulator.control.setFaults({ latencyMs: 500, paths: ['/cgi-bin/message/custom/send'] });
    // Instance A stalls (GC pause, Redis reconnect, event loop stuck) after reading the notice, before marking its call.
    let releaseA: () => void = () => undefined;
    const aGoes = new Promise<void>((res) => (releaseA = res));
    const stallA = r.inject(
      (method) => method === 'takeFromWindow',
      async (call) => {
        await aGoes;
        return call();
      },
    );
    const id = await r.enqueue(notice);
    await stallA.caught(5000);
    expect(stallA.fired).toBe(true);
    // A stalls as a whole (its event loop stuck): it claims nothing meanwhile either. (Were its work
    // loop still claiming, it could win the notice back at each lease end, only to queue it behind
    // its own stalled step, and B would wait lease after lease.) Its step in hand goes on when woken.
    const aStops = r.service.loop.stop();
    // Instance B on the same Redis: the lease runs out, B claims the notice, marks its call and sends.
    const storeB = await connectTestRedis(r.prefix);
    const marksCall: Match = (method, args) => method === 'move' && Boolean((args[1] as RecordMove).set?.csCallAt);
    const wakeA = faultOnce(marksCall, (call) => {
      setTimeout(releaseA, 100); // A wakes while B's call is in flight
      return call();
    });
    const serviceB = await startService({ config: r.config, store: withHook(storeB, { current: wakeA.hook }), log: capturedLogger('error').log });
    try {
      const deadline = Date.now() + 8000;
      let n = await r.get(id);
      while (!['fallback_sent', 'failed'].includes(String(n.status)) && Date.now() < deadline) {
        await sleep(50);
        n = await r.get(id);
      }
      await sleep(1000); // let the other call finish too
      n = await r.get(id);
      const inbox = r.emulator.control.inbox(USER);
      expect(wakeA.fired).toBe(true);
      const cs = inbox.filter((e) => e.channel === 'customer_service');
      bug(
        cs.length <= 1,
        'two instances that both read the notice before either marked its call (csCallAt) both called custom/send ' +
          '(no idempotency at WeChat): the marker must be set only where none is',
        { customerServiceEntries: cs, status: n.status, channel: n.channel, reason: n.reason, history: n.history },
      );
      promiseKept(n, inbox, 'two instances on one notice');
    } finally {
      releaseA();
      await aStops;
      await serviceB.stop();
      await storeB.close();
    }
  });
});
