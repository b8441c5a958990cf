import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Feature } from '../app.js';
import type { Services } from '../services.js';
import { createTerminalRoute } from '../terminal/route.js';
import { createForwardRoute } from './forward.js';
import { PORT_LOGIN_PATH } from './port-auth.js';
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

const PROXIED = new Set(['code-server', 'desktop', 'ports']);
const KINDS = new Set([...PROXIED, 'terminal', 'forward']);

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
    if (parts?.kind === 'terminal' || parts?.kind === 'forward') return answer(res, 426, 'This address is a WebSocket.', { upgrade: 'websocket' });
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
