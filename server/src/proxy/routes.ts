import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Feature } from '../app.js';
import type { Services } from '../services.js';
import { createTerminalRoute } from '../terminal/route.js';

/** `/spaces/<id>/<kind>/<rest>` split into its parts; null when the path is not of that shape. */
export function parseSpacePath(url: string | undefined): { spaceId: string; kind: string; rest: string } | null {
  const path = (url ?? '/').split('?')[0]!;
  const match = /^\/spaces\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path);
  if (!match) return null;
  return { spaceId: match[1]!, kind: match[2]!, rest: match[3] ?? '' };
}

function notFound(res: ServerResponse, message: string) {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`${message}\n`);
}

/**
 * Every way into a running space lives under `/spaces/<id>/`: the terminal, and (in the proxy
 * features) code-server, the desktop, web ports and TCP forwards.
 */
export const spaceRoutesFeature: Feature = (services: Services, router) => {
  const terminal = createTerminalRoute(services);

  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const parts = parseSpacePath(req.url);
    if (parts?.kind === 'terminal' && parts.rest === '') return terminal.upgrade(req, socket, head, parts.spaceId);
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
  };
  const http = (req: IncomingMessage, res: ServerResponse) => {
    const parts = parseSpacePath(req.url);
    if (parts?.kind === 'terminal') {
      res.writeHead(426, { 'content-type': 'text/plain; charset=utf-8', upgrade: 'websocket' }).end('The terminal is a WebSocket.\n');
      return;
    }
    notFound(res, 'Not found.');
  };
  router.route('/spaces/', { http, upgrade }, 'spaces');
  return {
    async dispose() {
      await terminal.dispose();
    },
  };
};
