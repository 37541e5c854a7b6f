// SSRF guard: refuse to connect to loopback, private (RFC 1918, ULA), link-local (incl. the cloud
// metadata address 169.254.169.254), CGNAT, multicast, unspecified and other non-global addresses.
// Checked on the address actually connected to: in the DNS lookup that the socket uses (so DNS
// rebinding cannot slip through) and on IP literals, which the URL parser has already normalised
// (2130706433, 127.1 and 0x7f.1 all become 127.0.0.1).
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import ipaddr from 'ipaddr.js';

export class ForbiddenAddressError extends Error {
  readonly code = 'HERALD_FORBIDDEN_ADDRESS';
  constructor(readonly address: string) {
    super(`refused to connect to ${address}: not a public address (set HERALD_ALLOW_PRIVATE_NETWORKS=true to allow)`);
  }
}

/** True when `ip` is anything but a global unicast address. */
export function isForbiddenAddress(ip: string): boolean {
  if (!ipaddr.isValid(ip)) return true;
  let addr = ipaddr.parse(ip);
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
  return addr.range() !== 'unicast';
}

/** The IP literal in a URL's host, or null when the host is a name. */
export function ipLiteralOf(url: URL): string | null {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return ipaddr.isValid(host) ? host : null;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A drop-in for dns.lookup that fails when any resolved address is forbidden. */
export function guardedLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const bad = addresses.find((a) => isForbiddenAddress(a.address));
    if (bad) return callback(new ForbiddenAddressError(`${hostname} (${bad.address})`) as unknown as NodeJS.ErrnoException, []);
    if (options.all) return callback(null, addresses);
    const first = addresses[0];
    if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
    callback(null, first.address, first.family);
  });
}
