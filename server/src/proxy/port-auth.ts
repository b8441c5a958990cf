import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { lt } from 'drizzle-orm';
import { redeemedPortTickets } from '../../../schema/db/index.js';
import { readCookie, sessionTokenOf, viewerFromHeaders, type Viewer } from '../auth/viewer.js';
import type { Services } from '../services.js';
import { mayReachSpaces } from './access.js';

/**
 * A port host (`alice--web--3000.knot.example.com`) is another origin than Knot, so the browser
 * does not send it Knot's session cookie. The handoff: the port host sends the browser to Knot
 * (`/spaces/port-login?to=…`), Knot checks its session and sends it back with a ticket valid for a
 * minute and for that host only, and the port host turns the ticket into a cookie of its own.
 * Tickets and cookies are sealed with the server key (AES-GCM), so the software behind the port
 * cannot read or forge them; they carry the session, so logging out of Knot ends them too.
 *
 * A ticket works once, and only in the browser that asked for it: before sending the browser to
 * Knot, the port host sets a random state cookie (host-only, on the callback path); the ticket
 * carries the state's hash, and the callback compares. A ticket someone else obtained (their own,
 * to log a victim into their account; or one read from a log) is useless in another browser.
 */
export const PORT_COOKIE = 'knot_port';
export const PORT_STATE_COOKIE = 'knot_port_state';
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
  /** Tickets: a random id, redeemed once. */
  j?: string;
  /** Tickets: the SHA-256 of the state cookie of the browser that asked. */
  b?: string;
}

function seal(services: Services, value: Omit<Sealed, 'e'>, ttlMs: number): string {
  const sealed: Sealed = { ...value, e: Date.now() + ttlMs };
  return Buffer.from(services.box.seal(JSON.stringify(sealed))).toString('base64url');
}

/** A ticket or cookie, if it is genuine, for this host, of this kind and not expired. */
function unseal(services: Services, raw: string | undefined | null, host: string, kind: Sealed['k']): Sealed | null {
  if (!raw || raw.length > 4096) return null;
  try {
    const value = JSON.parse(services.box.open(Buffer.from(raw, 'base64url').toString())) as Sealed;
    return value.k === kind && value.h === host && value.e > Date.now() && typeof value.s === 'string' ? value : null;
  } catch {
    return null;
  }
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');

/** Marks a ticket used; false when it already was (here or on another replica). */
async function redeem(services: Services, ticket: Sealed): Promise<boolean> {
  if (!ticket.j) return false;
  await services.db.delete(redeemedPortTickets).where(lt(redeemedPortTickets.expiresAt, new Date()));
  const inserted = await services.db
    .insert(redeemedPortTickets)
    .values({ id: ticket.j, expiresAt: new Date(ticket.e) })
    .onConflictDoNothing()
    .returning({ id: redeemedPortTickets.id });
  return inserted.length === 1;
}

/** Who is asking on a port host: a Bearer token (scripts) or the port cookie (browsers). */
export async function portHostViewer(services: Services, req: IncomingMessage, host: string): Promise<Viewer | null> {
  if (req.headers.authorization) {
    const viewer = await viewerFromHeaders(services.viewers, { authorization: req.headers.authorization });
    return viewer === 'invalid' ? null : mayReachSpaces(viewer);
  }
  const cookie = unseal(services, readCookie(req.headers.cookie, PORT_COOKIE), host, 'cookie');
  return cookie ? mayReachSpaces(await services.viewers.fromSessionToken(cookie.s)) : null;
}

/** Only a browser navigation can be sent through the login handoff; anything else gets a 401. */
export function isNavigation(req: IncomingMessage): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && (req.headers.accept ?? '').includes('text/html');
}

/** The port host's first step: remember this browser (the state cookie), then ask Knot for a ticket. */
export function startPortLogin(services: Services, req: IncomingMessage, res: ServerResponse, host: string) {
  const scheme = new URL(services.config.url).protocol;
  const to = `${scheme}//${req.headers.host ?? host}${req.url ?? '/'}`;
  const state = randomBytes(32).toString('base64url');
  const login = `${services.config.url}${PORT_LOGIN_PATH}?to=${encodeURIComponent(to)}&state=${sha256(state)}`;
  redirect(res, login, hostCookie(services, PORT_STATE_COOKIE, state, PORT_AUTH_PATH, TICKET_TTL_MS / 1000));
}

function hostCookie(services: Services, name: string, value: string, path: string, maxAgeSeconds: number): string {
  const secure = services.config.secureCookies ? '; Secure' : '';
  return `${name}=${value}; Path=${path}; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secure}`;
}

function redirect(res: ServerResponse, location: string, cookies: string | string[] = []) {
  const headers: Record<string, string | string[]> = { location, 'cache-control': 'no-store' };
  if (cookies.length) headers['set-cookie'] = cookies;
  res.writeHead(302, headers).end();
}

function refuseTicket(services: Services, res: ServerResponse, host: string, why: string) {
  services.log.info({ host, why }, 'refused a port ticket');
  res
    .writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
    .end('This login link is invalid, was already used, has expired or was opened in another browser; open the port from Knot again.\n');
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
  const session = sessionTokenOf(services.viewers, req.headers.cookie);
  const viewer = session ? mayReachSpaces(await services.viewers.fromSessionToken(session)) : null;
  if (!viewer || !session) return redirect(res, `/login?next=${encodeURIComponent(`${url.pathname}${url.search}`)}`);
  if (!(await check(viewer, host))) {
    services.log.info({ userId: viewer.user.id, host }, 'refused a port login for a space that is not the user\'s');
    return void res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('That space was not found.\n');
  }
  const state = url.searchParams.get('state') ?? '';
  if (!/^[\w-]{43}$/.test(state)) return void res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('The login link is incomplete; open the port again.\n');
  const back = new URL(PORT_AUTH_PATH, target.origin);
  const ticket = { s: session, h: host, k: 'ticket', j: randomBytes(16).toString('base64url'), b: state } as const;
  back.searchParams.set('ticket', seal(services, ticket, TICKET_TTL_MS));
  back.searchParams.set('to', `${target.pathname}${target.search}`);
  redirect(res, back.toString());
}

/**
 * The port host's side: a valid ticket, redeemed for the first time, in the browser that asked for
 * it, becomes this host's cookie, and the browser goes where it was going.
 */
export async function portAuthCallback(services: Services, req: IncomingMessage, res: ServerResponse, host: string) {
  const url = new URL(req.url ?? '/', 'http://x');
  const ticket = unseal(services, url.searchParams.get('ticket'), host, 'ticket');
  if (!ticket) return refuseTicket(services, res, host, 'invalid or expired');
  const state = readCookie(req.headers.cookie, PORT_STATE_COOKIE);
  if (!state || !ticket.b || sha256(state) !== ticket.b) return refuseTicket(services, res, host, 'not the browser that asked for it');
  if (!(await redeem(services, ticket))) return refuseTicket(services, res, host, 'already used');
  const to = url.searchParams.get('to') ?? '/';
  const local = to.startsWith('/') && !to.startsWith('//') ? to : '/';
  const cookie = hostCookie(services, PORT_COOKIE, seal(services, { s: ticket.s, h: host, k: 'cookie' }, COOKIE_TTL_MS), '/', COOKIE_TTL_MS / 1000);
  redirect(res, local, [cookie, hostCookie(services, PORT_STATE_COOKIE, '', PORT_AUTH_PATH, 0)]);
}
