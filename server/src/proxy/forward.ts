import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { createWebSocketStream, WebSocketServer, type WebSocket } from 'ws';
import type { Services } from '../services.js';
import { truncate } from '../terminal/route.js';
import { authorize, endOnRevocation, logRefusal, revocableSocket, Refusal, viewerOf, type Revocable, type SpaceAccess } from './access.js';
import { dialSpace } from './dial.js';
import { forwardPort, reportOf } from './offered.js';

/** Bytes of one frame; `knot forward` sends what a TCP read gives it, well under this. */
const MAX_FORWARD_FRAME = 1024 * 1024;

/**
 * `/spaces/<id>/forward/<port|ssh>` upgraded to a WebSocket whose binary frames are the bytes of
 * one TCP connection to that port inside the space (`knot forward port`, `knot forward ssh`).
 * Refusals close with 4000 + HTTP status and a reason the CLI prints.
 */
export function createForwardRoute(services: Services) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FORWARD_FRAME });
  const live = new Set<Revocable & { ws: WebSocket }>();
  const offAuth = endOnRevocation(services, live);

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, spaceId: string, requested: string) {
    socket.on('error', () => {});
    const viewer = await viewerOf(services, req);
    const access = await authorize(services, viewer, spaceId);
    const port = access instanceof Refusal ? access : forwardPort(access, reportOf(access, services.serviceReports), requested);
    const stream: Duplex | Refusal = port instanceof Refusal ? port : await dial(spaceId, port, (access as SpaceAccess).viewer.user.id);
    if (socket.destroyed) {
      if (!(stream instanceof Refusal)) stream.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (stream instanceof Refusal) {
        logRefusal(services, req, 'forward', stream, viewer, spaceId);
        return ws.close(stream.closeCode, truncate(stream.reason));
      }
      const entry = { ...revocableSocket(services, ws, req, spaceId), ws };
      live.add(entry);
      ws.once('close', () => live.delete(entry));
      join(ws, stream, spaceId);
    });
  }

  async function dial(spaceId: string, port: number, asker: string): Promise<Duplex | Refusal> {
    try {
      return await dialSpace(services, spaceId, port, asker);
    } catch (err) {
      return new Refusal(502, `Could not connect to port ${port}: ${(err as Error).message}`);
    }
  }

  function join(ws: WebSocket, stream: Duplex, spaceId: string) {
    // Bytes either way (an SSH session's keystrokes or its output) keep the space from counting as idle.
    ws.on('message', () => services.activity.touch(spaceId));
    stream.on('data', () => services.activity.touch(spaceId));
    // e.g. a frame over the cap (the socket closes with 1009): worth a line, never a crash.
    ws.on('error', (err) => services.log.info({ err: err.message }, 'forward socket error'));
    const remote = createWebSocketStream(ws);
    const end = () => {
      remote.destroy();
      stream.destroy();
    };
    remote.on('error', end);
    stream.on('error', end);
    remote.once('close', end);
    stream.once('close', end);
    remote.pipe(stream).pipe(remote);
  }

  return {
    upgrade,
    async dispose() {
      offAuth();
      for (const { ws } of live) ws.close(1001, 'Knot is shutting down.');
    },
  };
}
