import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { KnotError, badInput } from '../errors.js';

/**
 * Webhooks must not become a way to make the server call into its own network (the database, the
 * Docker API, a cloud's metadata service). A target is allowed only when every address its host
 * resolves to is public unicast; the check runs when a hook is saved and again at every delivery,
 * where the connection goes to the very address that was checked (so a DNS answer that changes in
 * between, "DNS rebinding", cannot reach a private address). KNOT_WEBHOOK_ALLOW_PRIVATE=true lifts it.
 */

const MAX_URL_LENGTH = 2_000;

/** An http(s) URL with a host and no credentials in it (those belong in the secret). */
export function parseWebhookUrl(raw: string): URL {
  const text = raw.trim();
  if (!text) throw badInput('url', 'Give the URL Knot should send events to.');
  if (text.length > MAX_URL_LENGTH) throw badInput('url', `The URL is too long (at most ${MAX_URL_LENGTH} characters).`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badInput('url', `"${text}" is not a URL. Give a full http:// or https:// address.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw badInput('url', `Webhooks are sent over http or https only, not ${url.protocol.replace(/:$/, '')}.`);
  }
  if (url.username || url.password) throw badInput('url', 'Leave credentials out of the URL; the receiver checks the signature made with the secret instead.');
  url.hash = '';
  return url;
}

/** Why an address may not be called, or null when it may (public unicast). */
export function refusedRange(address: string): string | null {
  if (!ipaddr.isValid(address)) return 'not an IP address';
  let parsed = ipaddr.parse(address);
  // ::ffff:10.0.0.1 is 10.0.0.1 to the kernel.
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  const range = parsed.range();
  // ::7f00:1 (IPv4-compatible, ::/96, deprecated) is "unicast" to ipaddr.js, yet a host with the
  // sit driver routes ::/96 to the IPv4 address it embeds: loopback, the metadata service...
  if (range === 'unicast' && parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).parts.slice(0, 6).every((p) => p === 0)) {
    return 'an IPv4-compatible IPv6 address (::/96), which some hosts route to the IPv4 address inside it';
  }
  return range === 'unicast' ? null : RANGE_WORDS[range] ?? `a reserved address (${range})`;
}

const RANGE_WORDS: Record<string, string> = {
  unspecified: 'the unspecified address',
  loopback: 'a loopback address',
  private: 'a private-network address',
  linkLocal: 'a link-local address (this includes cloud metadata services)',
  uniqueLocal: 'a unique-local (private) IPv6 address',
  carrierGradeNat: 'a shared (carrier-grade NAT) address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
};

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export function refused(host: string, address: string, why: string): KnotError {
  const where = host === address ? address : `${host} (${address})`;
  return new KnotError(
    'WEBHOOK_URL_REFUSED',
    `Knot does not send webhooks to ${where}: it is ${why}. Use a public address, or set KNOT_WEBHOOK_ALLOW_PRIVATE=true if the receiver is meant to be on a private network.`,
    { field: 'url', address },
  );
}

/** The addresses `url` may be called at: all of them public (or any, when private ones are allowed). */
export async function resolveTarget(url: URL, allowPrivate: boolean): Promise<ResolvedAddress[]> {
  // new URL keeps IPv6 literals in brackets.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: ResolvedAddress[];
  if (isIP(host)) {
    addresses = [{ address: host, family: isIP(host) as 4 | 6 }];
  } else {
    try {
      addresses = (await lookup(host, { all: true, verbatim: true })) as ResolvedAddress[];
    } catch {
      throw badInput('url', `The host ${host} could not be found.`);
    }
    if (!addresses.length) throw badInput('url', `The host ${host} could not be found.`);
  }
  if (allowPrivate) return addresses;
  for (const { address } of addresses) {
    const why = refusedRange(address);
    if (why) throw refused(host, address, why);
  }
  return addresses;
}
