import { promises as dns } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Keeps webhooks from reaching into the network wxreach runs in (SSRF): an endpoint must be https
 * and every address its host resolves to must be public. The check runs when an endpoint is
 * registered and again on every connection, with the very addresses the connection then uses, so
 * a name that later resolves elsewhere (DNS rebinding) is refused too. `allowPrivate` (tests, the
 * demo, a receiver on the operator's own network) turns the address checks off and allows http.
 */

/** Not public: this network, private, shared (CGNAT), loopback, link-local, documentation, benchmarking, multicast, reserved. */
const BLOCKED = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  BLOCKED.addSubnet(net, bits, 'ipv4');
}
// IPv6: unspecified, loopback and IPv4-compatible (::/96), NAT64 and 6to4 (they reach IPv4 addresses
// this list cannot see through), discard, IETF protocol assignments (Teredo…), documentation,
// unique local, link-local, site-local, multicast. IPv4-mapped ones (::ffff:a.b.c.d) are checked
// against the IPv4 list by BlockList itself.
for (const [net, bits] of [
  ['::', 96],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  BLOCKED.addSubnet(net, bits, 'ipv6');
}

/** An IP address (v4 or v6, without brackets) that is public. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return !BLOCKED.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export class UnsafeUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsafeUrlError';
  }
}

/** Every address a name resolves to (A and AAAA). */
export type Resolve = (hostname: string) => Promise<string[]>;

const resolver = new dns.Resolver({ timeout: 2500, tries: 2 });

/**
 * Through c-ares, not the system resolver: a name that takes long to answer then waits on the
 * network, not on the libuv thread pool every other lookup and file access of the process shares.
 */
export const resolvePublicDns: Resolve = async (hostname) => {
  const answers = await Promise.allSettled([resolver.resolve4(hostname), resolver.resolve6(hostname)]);
  const addresses = answers.flatMap((a) => (a.status === 'fulfilled' ? a.value : []));
  if (addresses.length === 0) {
    const reason = answers.find((a): a is PromiseRejectedResult => a.status === 'rejected')?.reason as NodeJS.ErrnoException | undefined;
    throw new UnsafeUrlError(`${hostname} does not resolve (${reason?.code ?? 'no address'})`);
  }
  return addresses;
};

/** The URL's host without IPv6 brackets. */
const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

export class AddressGuard {
  constructor(
    readonly allowPrivate: boolean,
    private readonly resolve: Resolve = resolvePublicDns,
  ) {}

  /**
   * The URL parsed, when an endpoint may have it (scheme, no credentials, a host that is not a
   * private address); throws UnsafeUrlError saying why not. Names are resolved by `check`.
   */
  parse(text: string): URL {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new UnsafeUrlError('not a URL');
    }
    const schemes = this.allowPrivate ? ['https:', 'http:'] : ['https:'];
    if (!schemes.includes(url.protocol)) throw new UnsafeUrlError(this.allowPrivate ? 'must be an http or https URL' : 'must be an https URL');
    if (url.username || url.password) throw new UnsafeUrlError('must not carry credentials (the signature authenticates wxreach)');
    const host = hostOf(url);
    // a connection to an address given as such asks no lookup: it is checked here
    if (!this.allowPrivate && isIP(host)) this.refusePrivate(host, [host]);
    return url;
  }

  /** Throws UnsafeUrlError unless the URL is allowed and its host resolves to public addresses only. */
  async check(text: string): Promise<void> {
    const host = hostOf(this.parse(text));
    if (!this.allowPrivate && !isIP(host)) this.refusePrivate(host, await this.resolve(host));
  }

  private refusePrivate(host: string, addresses: string[]): void {
    const refused = addresses.find((a) => !isPublicAddress(a));
    if (refused === undefined) return;
    throw new UnsafeUrlError(refused === host ? `${host} is not a public address` : `${host} resolves to ${refused}, which is not a public address`);
  }

  /**
   * For the connection (undici's `connect.lookup`): resolves and refuses any private answer, and
   * connects to the addresses it checked. Undefined with `allowPrivate` (the system's lookup).
   */
  get lookup(): LookupFunction | undefined {
    if (this.allowPrivate) return undefined;
    return (hostname, options, callback) => {
      const host = hostname.replace(/^\[(.*)\]$/, '$1');
      const resolved = isIP(host) ? Promise.resolve([host]) : this.resolve(host);
      resolved
        .then((addresses) => {
          this.refusePrivate(host, addresses);
          const wanted = options.family === 4 || options.family === 6 ? addresses.filter((a) => isIP(a) === options.family) : addresses;
          if (wanted.length === 0) throw new UnsafeUrlError(`${host} has no IPv${options.family} address`);
          if (options.all) callback(null, wanted.map((address) => ({ address, family: isIP(address) })));
          else callback(null, wanted[0], isIP(wanted[0]));
        })
        .catch((err: Error) => callback(err as NodeJS.ErrnoException, '', 0));
    };
  }
}
