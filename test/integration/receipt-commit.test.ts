import { StoreUnavailableError } from '../../src/store/unavailable';
import type { MsgidReceipt } from '../../src/store/store';
import { AES_KEY, APP, USER, sleep, startHarness, type Harness } from '../helpers/harness';
import { postPush, receiptXml } from '../helpers/push';
import { hookedStore, type StoreHook } from '../helpers/store-proxy';

const aes = { key: AES_KEY, appId: APP.appId };
const CONCURRENT = 40;

/**
 * Group commit of receipts on the real server (HTTP, AES, Redis): receipts arriving together go to
 * the store as one call, and each is answered only once its own change is stored.
 */
describe('receipts arriving together (group commit)', () => {
  let h: Harness;
  /** What the store's receipt calls do, set by each test (default: call through). */
  let hook: StoreHook;
  beforeAll(async () => {
    h = await startHarness({
      emulator: { aesKey: AES_KEY },
      wrapStore: (store) => hookedStore(store, (method, args, call) => (method === 'applyReceipts' ? hook(method, args, call) : call())),
    });
    h.emulator.control.setReceiptOutcome({ openid: USER, outcome: 'none' });
  });
  afterAll(async () => {
    await h.close();
  });

  /** `count` notices whose template went out, each awaiting its receipt. */
  async function awaiting(count: number): Promise<{ id: string; msgid: string }[]> {
    const ids = await Promise.all(
      Array.from({ length: count }, async (_, i) => (await h.enqueue({ openid: USER, template: 'order_paid', data: { order_no: `G${i}`, amount: '1' } })).body.id as string),
    );
    return Promise.all(ids.map(async (id) => ({ id, msgid: (await h.waitFor(id, 'awaiting_receipt', 15_000)).msgid as string })));
  }

  const post = (msgid: string) => postPush(h.service.url, receiptXml(USER, msgid, 'success'), { token: APP.token, aes });
  const statuses = async (notices: { id: string }[]) => Promise.all(notices.map(async ({ id }) => (await h.get(id)).status));

  it('answers each of many concurrent receipts only after its own change is stored, and stores them in fewer calls than receipts', async () => {
    const notices = await awaiting(CONCURRENT);
    const calls: number[] = [];
    const storedAt = new Map<string, number>();
    hook = async (_method, args, call) => {
      const receipts = args[0] as MsgidReceipt[];
      calls.push(receipts.length);
      // a slow store: an answer that did not wait for its write would come first
      await sleep(150);
      const result = await call();
      for (const r of receipts) storedAt.set(r.msgid, Date.now());
      return result;
    };
    const answers = await Promise.all(
      notices.map(async ({ msgid }) => {
        const r = await post(msgid);
        return { msgid, ...r, answeredAt: Date.now() };
      }),
    );
    expect(answers.map((a) => [a.status, a.text])).toEqual(notices.map(() => [200, 'success']));
    for (const a of answers) expect(a.answeredAt).toBeGreaterThanOrEqual(storedAt.get(a.msgid) as number);
    expect(calls.reduce((sum, n) => sum + n, 0)).toBe(CONCURRENT);
    expect(calls.length).toBeLessThan(CONCURRENT);
    expect(Math.max(...calls)).toBeGreaterThan(1);
    expect(await statuses(notices)).toEqual(notices.map(() => 'delivered'));
    // each notice moved once: one history line of its receipt
    for (const { id, msgid } of notices) {
      const history = (await h.get(id)).history as { detail: string }[];
      expect(history.filter((e) => e.detail.startsWith(`receipt for msgid ${msgid}`))).toHaveLength(1);
    }
  });

  it('a store call that fails answers 500 to every receipt in it and changes nothing; WeChat\'s re-sends then go through', async () => {
    const notices = await awaiting(12);
    const failed: number[] = [];
    hook = async (_method, args, call) => {
      if (failed.length === 0) {
        failed.push((args[0] as MsgidReceipt[]).length);
        // wait for the others of the burst, so they all meet this failure or a later call
        await sleep(50);
        throw new Error('injected store failure');
      }
      return call();
    };
    const first = await Promise.all(notices.map(({ msgid }) => post(msgid)));
    expect(failed).toHaveLength(1);
    const refused = first.filter((r) => r.status === 500).length;
    expect(refused).toBe(failed[0]);
    expect(refused).toBeGreaterThan(1);
    expect(first.filter((r) => r.status === 200 && r.text === 'success')).toHaveLength(notices.length - refused);
    const byStatus = await statuses(notices);
    expect(byStatus.filter((s) => s === 'awaiting_receipt')).toHaveLength(refused);
    // WeChat sends again what it got no `success` for: each now delivered, the others duplicates
    const again = await Promise.all(notices.map(({ msgid }) => post(msgid)));
    expect(again.map((r) => [r.status, r.text])).toEqual(notices.map(() => [200, 'success']));
    expect(await statuses(notices)).toEqual(notices.map(() => 'delivered'));
  });

  it('Redis unreachable during a batch: every receipt in it is kept in the push journal before its answer, and applied when Redis is back', async () => {
    const notices = await awaiting(10);
    let unreachable = 0;
    hook = async (_method, args, call) => {
      if (unreachable === 0) {
        unreachable = (args[0] as MsgidReceipt[]).length;
        await sleep(50);
        throw new StoreUnavailableError('injected: Redis did not answer');
      }
      return call();
    };
    const answers = await Promise.all(notices.map(({ msgid }) => post(msgid)));
    expect(unreachable).toBeGreaterThan(1);
    expect(answers.map((r) => [r.status, r.text])).toEqual(notices.map(() => [200, 'success']));
    expect(h.logs()).toContain('store unreachable: push kept in the local journal');
    for (const { id } of notices) await h.waitFor(id, 'delivered', 15_000);
  });
});
