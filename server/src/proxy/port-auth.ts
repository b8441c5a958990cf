import type { IncomingMessage, ServerResponse } from 'node:http';
import { readCookie, SESSION_COOKIE, viewerFromHeaders, type Viewer } from '../auth/viewer.js';
import type { Services } from '../services.js';

/**
 * A port host (`alice--web--3000.knot.example.com`) is another origin than Knot, so the browser
 * does not send it Knot's session cookie. The handoff: the port host sends the browser to Knot
 * (`/spaces/port-login?to=…`), Knot checks its session and sends it back with a ticket valid for a
 * minute and for that host only, and the port host turns the ticket into a cookie of its own.
 * Tickets and cookies are sealed with the server key (AES-GCM), so the software behind the port
 * cannot read or forge them; they carry the session, so logging out of Knot ends them too.
 */
export const PORT_COOKIE = 'knot_port';
export const PORT_AUTH_PATH = '/__knot/auth';
export const PORT_LOGIN_PATH = '/spaces/port-login';
const TICKET_TTL_MS = 60_000;
const COOKIE_TTL_MS = 12 * 3600_000;

interface Sealed {
  /** The Knot session token. */
  s: string;
  /** The port host it is valid for. */
  h: string;
  /** Expiry, ms since the epoch. */
  e: number;
  k: 'ticket' | 'cookie';
}

function seal(services: Services, session: string, host: string, kind: Sealed['k'], ttlMs: number): string {
  const value: Sealed = { s: session, h: host, e: Date.now() + ttlMs, k: kind };
  return Buffer.from(services.box.seal(JSON.stringify(value))).toString('base64url');
}

/** The session a ticket or cookie carries, if it is genuine, for this host, of this kind and not expired. */
function unseal(services: Services, raw: string | undefined | null, host: string, kind: Sealed['k']): string | null {
  if (!raw || raw.length > 4096) return null;
  try {
    const value = JSON.parse(services.box.open(Buffer.from(raw, 'base64url').toString())) as Sealed;
    return value.k === kind && value.h === host && value.e > Date.now() && typeof value.s === 'string' ? value.s : null;
  } catch {
    return null;
  }
}

/** Who is asking on a port host: a Bearer token (scripts) or the port cookie (browsers). */
export async function portHostViewer(services: Services, req: IncomingMessage, host: string): Promise<Viewer | null> {
  if (req.headers.authorization) {
    const viewer = await viewerFromHeaders(services.viewers, { authorization: req.headers.authorization });
    return viewer === 'invalid' ? null : viewer;
  }
  const session = unseal(services, readCookie(req.headers.cookie, PORT_COOKIE), host, 'cookie');
  return session ? services.viewers.fromSessionToken(session) : null;
}

/** Only a browser navigation can be sent through the login handoff; anything else gets a 401. */
export function isNavigation(req: IncomingMessage): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && (req.headers.accept ?? '').includes('text/html');
}

export function loginUrl(services: Services, req: IncomingMessage, host: string): string {
  const scheme = new URL(services.config.url).protocol;
  const to = `${scheme}//${req.headers.host ?? host}${req.url ?? '/'}`;
  return `${services.config.url}${PORT_LOGIN_PATH}?to=${encodeURIComponent(to)}`;
}

function redirect(res: ServerResponse, location: string, cookie?: string) {
  const headers: Record<string, string> = { location, 'cache-control': 'no-store' };
  if (cookie) headers['set-cookie'] = cookie;
  res.writeHead(302, headers).end();
}

/**
 * Knot's side of the handoff. `check(host)` says whether the session's user may reach that port
 * host (it resolves the space and applies the owner rule), so no ticket is made for anyone else's.
 */
export async function portLogin(
  services: Services,
  req: IncomingMessage,
  res: ServerResponse,
  parse: (host: string) => string | null,
  check: (viewer: Viewer, host: string) => Promise<boolean>,
) {
  const url = new URL(req.url ?? '/', 'http://x');
  let target: URL;
  try {
    target = new URL(url.searchParams.get('to') ?? '');
  } catch {
    return void res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('The "to" address is missing or not a URL.\n');
  }
  const host = (target.protocol === 'http:' || target.protocol === 'https:') && parse(target.host);
  // Only port hosts under our wildcard domain: anything else would make this an open redirect.
  if (!host) return void res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('That address is not a port of a Knot space.\n');
  const session = readCookie(req.headers.cookie, SESSION_COOKIE);
  const viewer = session ? await services.viewers.fromSessionToken(session) : null;
  if (!viewer || !session) return redirect(res, `/login?next=${encodeURIComponent(`${url.pathname}${url.search}`)}`);
  if (!(await check(viewer, host))) {
    services.log.info({ userId: viewer.user.id, host }, 'refused a port login for a space that is not the user\'s');
    return void res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('That space was not found.\n');
  }
  const back = new URL(PORT_AUTH_PATH, target.origin);
  back.searchParams.set('ticket', seal(services, session, host, 'ticket', TICKET_TTL_MS));
  back.searchParams.set('to', `${target.pathname}${target.search}`);
  redirect(res, back.toString());
}

/** The port host's side: a valid ticket becomes this host's cookie, and the browser goes where it was going. */
export function portAuthCallback(services: Services, req: IncomingMessage, res: ServerResponse, host: string) {
  const url = new URL(req.url ?? '/', 'http://x');
  const session = unseal(services, url.searchParams.get('ticket'), host, 'ticket');
  if (!session) {
    services.log.info({ host }, 'refused an invalid or expired port ticket');
    return void res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8' }).end('This login link is invalid or has expired; open the port from Knot again.\n');
  }
  const to = url.searchParams.get('to') ?? '/';
  const local = to.startsWith('/') && !to.startsWith('//') ? to : '/';
  const secure = services.config.secureCookies ? '; Secure' : '';
  const cookie = `${PORT_COOKIE}=${seal(services, session, host, 'cookie', COOKIE_TTL_MS)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${COOKIE_TTL_MS / 1000}${secure}`;
  redirect(res, local, cookie);
}
