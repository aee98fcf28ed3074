import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AddressGuard, isPublicAddress, type Resolve } from '../../src/outbound/address-guard';
import { configEndpoint } from '../../src/outbound/endpoints';
import { WebhookSender } from '../../src/outbound/sender';
import { newSecret } from '../../src/outbound/signature';

/** DNS as a test needs it: each name answers what the table says (or does not resolve). */
const dnsOf =
  (table: Record<string, string[] | (() => string[])>): Resolve =>
  async (name) => {
    const entry = table[name];
    if (entry === undefined) throw new Error(`${name} does not resolve`);
    return typeof entry === 'function' ? entry() : entry;
  };

describe('public addresses', () => {
  it.each([
    '0.0.0.0', '10.1.2.3', '100.64.0.1', '100.127.255.254', '127.0.0.1', '127.255.0.9', '169.254.169.254', '172.16.0.1', '172.31.255.255',
    '192.0.0.8', '192.0.2.1', '192.168.1.1', '198.18.0.1', '198.51.100.7', '203.0.113.9', '224.0.0.1', '239.255.255.250', '240.0.0.1', '255.255.255.255',
    '::', '::1', '::127.0.0.1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '::ffff:169.254.169.254', '64:ff9b::a00:1', '2002:a00:1::',
    'fc00::1', 'fd12:3456::1', 'fe80::1', 'fec0::1', 'ff02::1', '2001:db8::1', '2001::1', '100::1', 'not an address', '',
  ])('%s is not public', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['1.1.1.1', '8.8.8.8', '100.63.255.255', '100.128.0.1', '172.15.255.255', '172.32.0.1', '203.0.114.1', '2606:4700:4700::1111', '2001:4860:4860::8888', '::ffff:8.8.8.8'])(
    '%s is public',
    (address) => {
      expect(isPublicAddress(address)).toBe(true);
    },
  );
});

describe('the address guard at registration', () => {
  const guard = new AddressGuard(false, dnsOf({ 'hooks.example.com': ['93.184.216.34', '2606:2800:220:1::1'], 'inside.example.com': ['93.184.216.34', '10.0.0.5'], 'v6inside.example.com': ['fd00::5'] }));

  it('allows https to a name that resolves to public addresses only', async () => {
    await expect(guard.check('https://hooks.example.com/wxreach?x=1')).resolves.toBeUndefined();
    await expect(guard.check('https://93.184.216.34:8443/')).resolves.toBeUndefined();
  });

  it.each([
    ['http://hooks.example.com/', /https/],
    ['ftp://hooks.example.com/', /https/],
    ['not a url', /not a URL/],
    ['https://user:pw@hooks.example.com/', /credentials/],
    ['https://inside.example.com/', /inside\.example\.com resolves to 10\.0\.0\.5/],
    ['https://v6inside.example.com/', /fd00::5/],
    ['https://nowhere.example.com/', /does not resolve/],
    ['https://127.0.0.1/', /127\.0\.0\.1 is not a public address/],
    ['https://2130706433/', /127\.0\.0\.1/],
    ['https://0x7f.1/', /127\.0\.0\.1/],
    ['https://[::1]/', /::1/],
    ['https://[::ffff:169.254.169.254]/', /not a public address/],
    ['https://[fd00::1]:8443/', /not a public address/],
    ['https://100.64.1.1/', /not a public address/],
    ['https://169.254.169.254/latest/meta-data', /not a public address/],
    ['https://224.0.0.251/', /not a public address/],
  ])('refuses %s', async (url, why) => {
    await expect(guard.check(url)).rejects.toThrow(why);
  });

  it('with allowPrivate, allows http and private addresses (and asks no DNS)', async () => {
    const open = new AddressGuard(true, () => Promise.reject(new Error('no DNS expected')));
    await expect(open.check('http://127.0.0.1:8080/hooks')).resolves.toBeUndefined();
    await expect(open.check('http://receiver.internal/hooks')).resolves.toBeUndefined();
    await expect(open.check('ftp://127.0.0.1/')).rejects.toThrow(/http or https/);
    expect(open.lookup).toBeUndefined();
  });
});

describe('the address guard at each delivery', () => {
  it('refuses a name that resolves to a private address by now (DNS rebinding): no connection is made', async () => {
    let connections = 0;
    const server = createServer((_req, res) => res.end('ok'));
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    // registered while it pointed elsewhere; now it points at this machine
    let answer = ['93.184.216.34'];
    const guard = new AddressGuard(false, dnsOf({ 'rebind.example.com': () => answer }));
    await guard.check(`https://rebind.example.com:${port}/hooks`);
    answer = ['127.0.0.1'];
    const sender = new WebhookSender(guard, 'test');
    try {
      const result = await sender.send(configEndpoint({ url: `https://rebind.example.com:${port}/hooks`, secret: newSecret() }), 'evt_1', '{}');
      expect(result).toEqual({ error: expect.stringMatching(/rebind\.example\.com resolves to 127\.0\.0\.1, which is not a public address/), ms: expect.any(Number) });
      // an address given as such is refused before any connection too
      const literal = await sender.send(configEndpoint({ url: `https://127.0.0.1:${port}/hooks`, secret: newSecret() }), 'evt_1', '{}');
      expect(literal.error).toMatch(/127\.0\.0\.1 is not a public address/);
      expect(connections).toBe(0);
    } finally {
      await sender.close();
      server.close();
    }
  });
});
