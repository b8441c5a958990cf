import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Feature } from '../feature.js';
import type { Services } from '../services.js';
import { createTerminalRoute } from '../terminal/route.js';
import { createForwardRoute } from './forward.js';
import { PORT_AUTH_PATH, PORT_LOGIN_PATH } from './port-auth.js';
import { isPortHostRequest } from './port-hosts.js';
import { answer } from './reverse-proxy.js';
import { createSpaceProxies } from './space-proxies.js';

/** `/spaces/<id>/<kind>/<rest>` split into its parts; null when the path is not of that shape. */
export function parseSpacePath(url: string | undefined): { spaceId: string; kind: string; rest: string } | null {
  const path = (url ?? '/').split('?')[0]!;
  const match = /^\/spaces\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path);
  if (!match) return null;
  return { spaceId: match[1]!, kind: match[2]!, rest: match[3] ?? '' };
}

/**
 * What answers under `/spaces/<id>/<kind>/`: a reverse proxy (HTTP and WebSocket), or a WebSocket
 * only (HTTP gets 426). The dispatch below reads this table, and SPACE_ROUTES lists it for the
 * authorization matrix test, so a new kind cannot be added without a rule there.
 */
const SPACE_KINDS = {
  terminal: 'websocket',
  forward: 'websocket',
  'code-server': 'proxy',
  desktop: 'proxy',
  ports: 'proxy',
} as const satisfies Record<string, 'websocket' | 'proxy'>;
const PROXIED = new Set(Object.keys(SPACE_KINDS).filter((k) => SPACE_KINDS[k as keyof typeof SPACE_KINDS] === 'proxy'));
const KINDS = new Set(Object.keys(SPACE_KINDS));

/** The path shape of each kind, as the upgrade dispatch below accepts it. */
const KIND_PATHS: Record<keyof typeof SPACE_KINDS, string> = {
  terminal: '/spaces/<id>/terminal',
  forward: '/spaces/<id>/forward/<port>',
  'code-server': '/spaces/<id>/code-server/*',
  desktop: '/spaces/<id>/desktop/*',
  ports: '/spaces/<id>/ports/<port>/*',
};

/** Every route the `spaces` matcher answers, with the transport: `HTTP` or `WS` (an upgrade). */
export const SPACE_ROUTES: readonly string[] = [
  `HTTP ${PORT_LOGIN_PATH}`,
  ...Object.entries(SPACE_KINDS).flatMap(([kind]) => {
    const path = KIND_PATHS[kind as keyof typeof SPACE_KINDS];
    return [`HTTP ${path}`, `WS ${path}`];
  }),
];

/** Every route the `space-port-host` matcher answers on `<user>--<space>--<port>.<wildcard domain>`. */
export const PORT_HOST_ROUTES: readonly string[] = [`HTTP <port host>${PORT_AUTH_PATH}`, 'HTTP <port host>/*', 'WS <port host>/*'];

/** Only our own paths, so any other `/spaces/…` address stays the web UI's. */
function isSpaceRoute(req: IncomingMessage): boolean {
  const path = (req.url ?? '/').split('?')[0];
  if (path === PORT_LOGIN_PATH) return true;
  const parts = parseSpacePath(req.url);
  return !!parts && KINDS.has(parts.kind);
}

/**
 * Every way into a running space lives under `/spaces/<id>/`: the terminal, code-server, the
 * desktop, web ports and TCP forwards; with KNOT_WILDCARD_DOMAIN, web ports also answer on
 * `<user>--<space>--<port>.<domain>`. Who may use them: docs/permissions.md.
 */
export const spaceRoutesFeature: Feature = (services: Services, router) => {
  const terminal = createTerminalRoute(services);
  const forward = createForwardRoute(services);
  const proxies = createSpaceProxies(services);

  // A failure while checking (the database away) must end the socket, never the process.
  const guarded = (socket: Duplex, work: Promise<unknown>) =>
    void work.catch((err) => {
      services.log.error({ err }, 'a WebSocket into a space failed');
      socket.destroy();
    });
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const parts = parseSpacePath(req.url);
    if (parts?.kind === 'terminal' && parts.rest === '') return guarded(socket, terminal.upgrade(req, socket, head, parts.spaceId));
    const port = /^\/([^/]+)$/.exec(parts?.rest ?? '')?.[1];
    if (parts?.kind === 'forward' && port) return guarded(socket, forward.upgrade(req, socket, head, parts.spaceId, port));
    if (parts && PROXIED.has(parts.kind)) return proxies.upgrade(req, socket, head, parts);
    answer(socket, 404, 'Not found.');
  };
  const http = (req: IncomingMessage, res: ServerResponse) => {
    if ((req.url ?? '').split('?')[0] === PORT_LOGIN_PATH) return proxies.login(req, res);
    const parts = parseSpacePath(req.url);
    if (parts && PROXIED.has(parts.kind)) return proxies.http(req, res, parts);
    if (parts && SPACE_KINDS[parts.kind as keyof typeof SPACE_KINDS] === 'websocket') {
      return answer(res, 426, 'This address is a WebSocket.', { upgrade: 'websocket' });
    }
    answer(res, 404, 'Not found.');
  };
  // A port host is the space's whole origin, so it is matched first: even its /graphql is the app's.
  router.match('space-port-host', (req) => isPortHostRequest(req, services.config.wildcardDomain), {
    http: proxies.hostHttp,
    upgrade: proxies.hostUpgrade,
  });
  router.match('spaces', isSpaceRoute, { http, upgrade });
  return {
    async dispose() {
      await terminal.dispose();
      await forward.dispose();
      proxies.dispose();
    },
  };
};
