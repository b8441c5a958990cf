import type { IncomingMessage } from 'node:http';

/**
 * The address a request came from, for the login throttle. Behind a reverse proxy (trustProxy)
 * that is the last X-Forwarded-For entry, the one the proxy itself added; earlier entries are
 * whatever the client claimed and are ignored.
 */
export function clientAddress(req: Pick<IncomingMessage, 'headers' | 'socket'> | undefined, trustProxy: boolean): string {
  const peer = req?.socket?.remoteAddress ?? 'unknown';
  if (!trustProxy) return peer;
  const forwarded = req?.headers['x-forwarded-for'];
  const list = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? '')).split(',').map((s) => s.trim()).filter(Boolean);
  return list.at(-1) ?? peer;
}
