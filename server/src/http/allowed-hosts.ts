/**
 * Which `Host` headers Knot answers. A page on any site can make the browser send requests to a
 * name it controls that resolves to Knot's address (DNS rebinding), e.g. to run `setup` on a
 * fresh server or read `/healthz` from inside a private network. The browser then sends that
 * name as the Host, so Knot answers only to its own names: the public URL's host, the agents'
 * URL's host, hosts under the wildcard domain, loopback (a local server, `*.localhost`), and the
 * replica's internal URL, where the other replicas relay to it.
 */
import { isIP } from 'node:net';
import type { Config } from '../config.js';
import { wildcardBase } from '../proxy/port-hosts.js';

/** `Host` without its port and brackets, lower-cased: `[::1]:3000` → `::1`. */
export function hostName(hostHeader: string): string {
  const host = hostHeader.trim().toLowerCase();
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']') >>> 0);
  return host.replace(/:\d*$/, '').replace(/\.$/, '');
}

function isLoopback(name: string): boolean {
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  return name === '::1' || name === '::ffff:127.0.0.1';
}

/** Reads the config on every call (it may be completed after start, e.g. the agents' URL once the port is known). */
export function allowedHosts(
  config: Pick<Config, 'url' | 'agentUrl' | 'wildcardDomain'>,
  internalUrl: () => string | undefined = () => undefined,
): (hostHeader: string | undefined) => boolean {
  let key = '';
  let exact = new Set<string>();
  let wildcard: string | undefined;
  return (hostHeader) => {
    if (!hostHeader) return false;
    const internal = internalUrl();
    const nowKey = `${config.url} ${config.agentUrl} ${config.wildcardDomain ?? ''} ${internal ?? ''}`;
    if (nowKey !== key) {
      key = nowKey;
      exact = new Set([config.url, config.agentUrl, ...(internal ? [internal] : [])].map((u) => hostName(new URL(u).host)));
      wildcard = config.wildcardDomain ? `.${wildcardBase(config.wildcardDomain)}` : undefined;
    }
    const name = hostName(hostHeader);
    return exact.has(name) || isLoopback(name) || (!!wildcard && name.endsWith(wildcard));
  };
}
