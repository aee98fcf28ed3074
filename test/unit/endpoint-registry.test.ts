import { configEndpoint, EndpointRegistry, ENDPOINTS_REFRESH_MS, type Endpoint } from '../../src/outbound/endpoints';
import { MemoryWebhookStore } from '../../src/store/memory-webhook-store';

const APPID = 'wx0123456789abcdef';
const OTHER = 'wxfedcba9876543210';

const apiEndpoint = (id: string, over: Partial<Endpoint> = {}): Endpoint => ({
  id,
  url: `https://crm.example.com/${id}`,
  secret: 'whsec_x',
  events: null,
  accounts: null,
  owner: 'key-a',
  createdAt: 1,
  ...over,
});

/**
 * The store every instance shares (the memory store's), its reads counted; `hold()` keeps the
 * reads that start after it open, once they have read, until the returned release is called.
 */
function sharedStore() {
  const store = new MemoryWebhookStore(Date.now);
  const list = store.listEndpoints.bind(store);
  let gate: Promise<void> | null = null;
  const reads = jest.spyOn(store, 'listEndpoints').mockImplementation(async () => {
    const snapshot = await list();
    if (gate) await gate;
    return snapshot;
  });
  return Object.assign(store, {
    reads: () => reads.mock.calls.length,
    hold(): () => void {
      let release!: () => void;
      gate = new Promise<void>((r) => (release = r));
      return () => {
        gate = null;
        release();
      };
    },
  });
}

/** A second into the fake clock's day (1,000,000 ms), the shared store and a registry read once. */
async function afterFirstRead() {
  jest.useFakeTimers({ now: 1_000_000, doNotFake: ['nextTick', 'setImmediate'] });
  const store = sharedStore();
  const here = new EndpointRegistry(store, []);
  await here.all();
  expect(here.mayWant('notification.delivered', APPID)).toBe(false);
  return { store, here };
}

describe('EndpointRegistry.mayWant: whether a move records its webhook event', () => {
  afterEach(() => jest.useRealTimers());

  it('says yes before the first read, then answers from it: only the types and accounts some endpoint takes', async () => {
    const store = sharedStore();
    const registry = new EndpointRegistry(store, [configEndpoint({ url: 'https://ops.example.com/h', secret: 'whsec_y', events: ['notification.failed'], accounts: [APPID] })]);
    expect(registry.mayWant('notification.delivered', APPID)).toBe(true); // nothing read yet
    await registry.all();
    expect(registry.mayWant('notification.delivered', APPID)).toBe(false);
    expect(registry.mayWant('notification.failed', APPID)).toBe(true);
    expect(registry.mayWant('notification.failed', OTHER)).toBe(false);
  });

  it('sees an endpoint registered by another instance once its read is older than a second, saying yes (and reading again) until the new read is in', async () => {
    const { store, here } = await afterFirstRead();
    const elsewhere = new EndpointRegistry(store, []);
    await elsewhere.save(apiEndpoint('ep_new', { accounts: [APPID] }));
    // within the second: this instance's read stands
    jest.setSystemTime(1_000_999);
    expect(here.mayWant('notification.delivered', APPID)).toBe(false);
    const readsBefore = store.reads();
    jest.setSystemTime(1_001_000);
    expect(here.mayWant('notification.delivered', APPID)).toBe(true);
    expect(here.mayWant('notification.delivered', OTHER)).toBe(true); // not known yet which accounts: yes
    expect(store.reads()).toBe(readsBefore + 1); // one read for both questions
    await here.all();
    expect(here.mayWant('notification.delivered', APPID)).toBe(true);
    expect(here.mayWant('notification.delivered', OTHER)).toBe(false);
  });

  it('a read begun before another instance registered an endpoint stands no longer than ENDPOINTS_REFRESH_MS after it began', async () => {
    const { store, here } = await afterFirstRead();
    jest.setSystemTime(1_001_000);
    const release = store.hold();
    expect(here.mayWant('notification.delivered', APPID)).toBe(true); // the first read is a second old: read again
    jest.setSystemTime(1_001_200);
    await new EndpointRegistry(store, []).save(apiEndpoint('ep_new'));
    release(); // the read began at 1,001,000 and saw no endpoint; it ends after the registration
    await here.all();
    expect(store.reads()).toBe(2); // the read under way was the one held, not a new one
    jest.setSystemTime(1_001_999);
    expect(here.mayWant('notification.delivered', APPID)).toBe(false); // what that read saw
    // a second after the read began, which is before a second after the registration was answered
    jest.setSystemTime(1_000_000 + 1000 + ENDPOINTS_REFRESH_MS);
    expect(here.mayWant('notification.delivered', APPID)).toBe(true);
    await here.all();
    expect(here.mayWant('notification.delivered', APPID)).toBe(true);
  });

  it('a registration here counts at once, even with a read begun before it still under way', async () => {
    const { store, here: registry } = await afterFirstRead();
    // a read that began before the registration and ends after it must not stand for the store
    jest.setSystemTime(1_001_000);
    const release = store.hold();
    const early = registry.all();
    let earlyDone = false;
    void early.then(() => (earlyDone = true));
    await registry.save(apiEndpoint('ep_here'));
    expect(earlyDone).toBe(false); // the hold fired: that read was still under way at the registration
    release();
    expect((await early).map((e) => e.id)).toEqual([]); // what that read saw
    expect(registry.mayWant('notification.delivered', APPID)).toBe(true);
    expect((await registry.all()).map((e) => e.id)).toEqual(['ep_here']);
    expect(registry.mayWant('notification.delivered', OTHER)).toBe(true);
    await registry.delete('ep_here');
    await registry.all();
    expect(registry.mayWant('notification.delivered', APPID)).toBe(false);
  });
});
