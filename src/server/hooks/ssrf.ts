// SSRF guard for hook targets: a site owner (or whoever holds an API key) chooses the URL the
// server will POST to, so it must never reach the server's own network. Checked when a hook is
// created and again on every delivery, through `guardedLookup`, which vets the addresses the
// socket will actually connect to (no window for DNS rebinding between check and connect).
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network", 0.0.0.0 reaches localhost on Linux
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata 169.254.169.254
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24], // documentation (TEST-NET-1, -2, -3): never a real receiver
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved and broadcast
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 96], // unspecified, loopback and the deprecated IPv4-compatible ::a.b.c.d (::7f00:1)
  ['::ffff:0:0:0', 96], // IPv4-translated (SIIT); IPv4-mapped ::ffff:a.b.c.d is checked as IPv4
  ['64:ff9b::', 96], // NAT64, local NAT64, Teredo and 6to4 embed an IPv4 address that could be private
  ['64:ff9b:1::', 48],
  ['2001::', 32],
  ['2002::', 16],
  ['100::', 64], // discard-only
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique-local, includes the AWS metadata address fd00:ec2::254
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/** True for addresses a hook must not reach. IPv4-mapped IPv6 (::ffff:a.b.c.d) is checked as IPv4. */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  return blocked.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export class HookTargetError extends Error {}

/**
 * What to do when the refused target is the owner's own receiver (localhost, the LAN): said with
 * every refusal for a private address, which is otherwise a dead end for a first-time owner.
 */
export const PRIVATE_TARGET_HINT =
  'for a receiver on your own machine or network, start the server with POPLET_ALLOW_PRIVATE_HOOKS=1 (--allow-private-hooks; `poplet hook add` takes it too)';

/** Why an http target is refused when HTTPS is required; also the reason a delivery to one is held back. */
export const HTTPS_ONLY_TARGET =
  'target_url must use https: this server requires HTTPS (POPLET_REQUIRE_HTTPS), so sign-ups are never posted over plain http';

/**
 * Syntax check: absolute http(s) URL with a host, https only when `httpsOnly`. Returns the parsed
 * URL or throws HookTargetError.
 */
export function parseTargetUrl(raw: unknown, httpsOnly = false): URL {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 2048) {
    throw new HookTargetError('target_url is required (an http or https URL)');
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new HookTargetError('target_url is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new HookTargetError('target_url must use http or https');
  }
  if (httpsOnly && url.protocol !== 'https:') throw new HookTargetError(HTTPS_ONLY_TARGET);
  if (!url.hostname) throw new HookTargetError('target_url has no host');
  return url;
}

export type Resolver = (host: string) => Promise<LookupAddress[]>;

const resolveAll: Resolver = (host) =>
  new Promise((resolve, reject) => {
    dnsLookup(host, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses)));
  });

function bareHost(url: URL): string {
  // URL keeps IPv6 literals in brackets.
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/**
 * Full check used at hook creation: syntax (https only when `httpsOnly`), then every address the
 * name resolves to must be public (a name answering with one public and one private address is
 * refused).
 */
export async function vetTargetUrl(raw: unknown, allowPrivate: boolean, resolve: Resolver = resolveAll, httpsOnly = false): Promise<URL> {
  const url = parseTargetUrl(raw, httpsOnly);
  if (allowPrivate) return url;
  const host = bareHost(url);
  let addresses: string[];
  if (isIP(host)) {
    addresses = [host];
  } else {
    try {
      addresses = (await resolve(host)).map((a) => a.address);
    } catch (e) {
      throw new HookTargetError(`target_url host does not resolve: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  if (addresses.length === 0) throw new HookTargetError('target_url host does not resolve');
  // The address is not echoed: API keys of every site could otherwise map the server's internal
  // DNS (split-horizon names answer with private addresses).
  if (addresses.some(isBlockedAddress)) throw new HookTargetError(`target_url resolves to a private or reserved address; ${PRIVATE_TARGET_HINT}`);
  return url;
}

/** Delivery-time check for IP-literal hosts, which Node connects to without calling `lookup`. */
export function checkLiteralHost(url: URL, allowPrivate: boolean): void {
  const host = bareHost(url);
  if (!allowPrivate && isIP(host) && isBlockedAddress(host)) {
    throw new HookTargetError(`target resolves to a private or reserved address (${host}); ${PRIVATE_TARGET_HINT}`);
  }
}

/**
 * A `lookup` for http.request / https.request: resolves like dns.lookup, then refuses the
 * connection if any answer is private. The socket connects to the addresses vetted here.
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as LookupAddress[];
      const bad = !allowPrivate && list.some((a) => isBlockedAddress(a.address));
      if (bad || list.length === 0) {
        const e = new HookTargetError(bad ? `target resolves to a private or reserved address; ${PRIVATE_TARGET_HINT}` : 'target does not resolve');
        return callback(e as NodeJS.ErrnoException, '', 0);
      }
      if (options.all) return (callback as (e: null, a: LookupAddress[]) => void)(null, list);
      callback(null, list[0]!.address, list[0]!.family);
    });
  };
}
