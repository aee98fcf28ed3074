import { configEndpoint, EndpointRegistry, type Endpoint } from '../../src/outbound/endpoints';

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

/** The endpoints in "the store" (every instance shares them), its reads counted; `hold` keeps reads open, after taking their snapshot, until released. */
function sharedStore() {
  const saved = new Map<string, string>();
  let reads = 0;
  let gate: Promise<void> | null = null;
  return {
    reads: () => reads,
    hold(): () => void {
      let release!: () => void;
      gate = new Promise<void>((r) => (release = r));
      return () => {
        gate = null;
        release();
      };
    },
    async listEndpoints(): Promise<Record<string, string>> {
      reads += 1;
      const snapshot = Object.fromEntries(saved);
      if (gate) await gate;
      return snapshot;
    },
    async saveEndpoint(id: string, json: string) {
      saved.set(id, json);
    },
    async deleteEndpoint(id: string) {
      saved.delete(id);
    },
  };
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
    jest.useFakeTimers({ now: 1_000_000, doNotFake: ['nextTick', 'setImmediate'] });
    const store = sharedStore();
    const here = new EndpointRegistry(store, []);
    const elsewhere = new EndpointRegistry(store, []);
    await here.all();
    expect(here.mayWant('notification.delivered', APPID)).toBe(false);
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

  it('a registration here counts at once, even with a read begun before it still under way', async () => {
    jest.useFakeTimers({ now: 1_000_000, doNotFake: ['nextTick', 'setImmediate'] });
    const store = sharedStore();
    const registry = new EndpointRegistry(store, []);
    await registry.all();
    expect(registry.mayWant('notification.delivered', APPID)).toBe(false);
    // a read that began before the registration and ends after it must not stand for the store
    jest.setSystemTime(1_001_000);
    const release = store.hold();
    const early = registry.all();
    await registry.save(apiEndpoint('ep_here'));
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
