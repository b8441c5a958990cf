import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { authorize, endOnRevocation, logRefusal, revocableSocket, Refusal, viewerOf, type Revocable, type SpaceAccess } from '../proxy/access.js';
import type { Services } from '../services.js';
import { openAgentShell } from './agent-shell.js';
import { DEFAULT_SIZE, parseSize, type TerminalBackend, type TerminalSize } from './backend.js';
import { openDockerShell } from './docker-shell.js';

/** A paste larger than this is refused (the socket closes with 1009): no one types a megabyte. */
export const MAX_TERMINAL_FRAME = 1024 * 1024;
/** Output is paused while this much is queued for a slow client, so a runaway `cat` cannot fill memory. */
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;

/**
 * `GET /spaces/<id>/terminal?cols=&rows=` upgraded to a WebSocket. Binary frames carry terminal
 * bytes both ways; text frames carry JSON control messages (`{"type":"resize","cols":..,"rows":..}`).
 * Refusals are a close with 4000 + HTTP status and a reason (4401, 4404, 4409, 4400, 4502).
 */
export function createTerminalRoute(services: Services) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_TERMINAL_FRAME });
  const live = new Set<Revocable & { ws: WebSocket }>();

  const offAuth = endOnRevocation(services, live);

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, spaceId: string) {
    socket.on('error', () => {});
    const url = new URL(req.url ?? '/', 'http://x');
    const viewer = await viewerOf(services, req);
    let access = await authorize(services, viewer, spaceId);
    const size = sizeFrom(url);
    if (!(access instanceof Refusal) && !size) access = new Refusal(400, 'cols and rows must be whole numbers from 1 to 1000.');
    // A VS Code tunnel is created from a terminal, so either service opens one.
    if (!(access instanceof Refusal) && !access.template.withTerminal && !access.template.withVSCodeTunnel) {
      access = new Refusal(404, `The template of "${access.space.name}" has no terminal.`);
    }
    if (socket.destroyed) return;
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (access instanceof Refusal) {
        logRefusal(services, req, 'terminal', access, viewer, spaceId);
        ws.close(access.closeCode, truncate(access.reason));
        return;
      }
      const entry = { ...revocableSocket(services, ws, req), ws };
      live.add(entry);
      ws.once('close', () => live.delete(entry));
      void serve(ws, access, size!);
    });
  }

  async function serve(ws: WebSocket, access: SpaceAccess, size: TerminalSize) {
    // Keystrokes sent before the shell exists wait in the socket, not in memory we manage.
    ws.pause();
    let backend: TerminalBackend;
    try {
      backend = await open(access, size);
    } catch (err) {
      services.log.warn({ err, spaceId: access.space.id }, 'could not open a terminal');
      ws.close(4502, truncate(`Could not open a shell in "${access.space.name}": ${(err as Error).message}`));
      return;
    }
    if (ws.readyState !== ws.OPEN) return backend.close();
    services.log.info({ spaceId: access.space.id, userId: access.viewer.user.id }, 'terminal opened');
    pump(ws, backend, services);
    ws.resume();
  }

  function open(access: SpaceAccess, size: TerminalSize): Promise<TerminalBackend> {
    if (access.template.platform === 'MANUAL') return openAgentShell(services.agents, access.space.id, access.space.shell, size);
    if (!access.space.containerId) throw new Error('it has no container');
    return openDockerShell(services.runtime, services.log, access.space.containerId, access.space.shell, size);
  }

  return {
    upgrade,
    async dispose() {
      offAuth();
      for (const { ws } of live) ws.close(1001, 'Knot is shutting down.');
    },
  };
}

function sizeFrom(url: URL): TerminalSize | null {
  const cols = url.searchParams.get('cols');
  const rows = url.searchParams.get('rows');
  if (cols === null && rows === null) return DEFAULT_SIZE;
  return parseSize(cols ?? String(DEFAULT_SIZE.cols), rows ?? String(DEFAULT_SIZE.rows));
}

/** Moves bytes both ways with backpressure, and ends each side when the other ends. */
function pump(ws: WebSocket, backend: TerminalBackend, services: Services) {
  let queued = 0;
  let paused = false;
  backend.output.on('data', (chunk: Buffer) => {
    queued += chunk.length;
    ws.send(chunk, { binary: true }, () => {
      queued -= chunk.length;
      if (paused && queued < LOW_WATER) {
        paused = false;
        backend.output.resume();
      }
    });
    if (queued > HIGH_WATER && !paused) {
      paused = true;
      backend.output.pause();
    }
  });
  backend.input.on('error', () => {});

  ws.on('message', (data: RawData, isBinary: boolean) => {
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (isBinary) {
      if (!backend.input.write(bytes)) {
        ws.pause();
        backend.input.once('drain', () => ws.resume());
      }
      return;
    }
    const size = parseControl(bytes.toString('utf8'));
    if (!size) {
      services.log.info({ message: bytes.toString('utf8').slice(0, 200) }, 'closed a terminal on a malformed control message');
      ws.close(4400, 'Text frames must be JSON like {"type":"resize","cols":80,"rows":24}.');
      return;
    }
    backend.resize(size.cols, size.rows);
  });
  ws.on('error', (err) => services.log.info({ err: err.message }, 'terminal socket error'));
  ws.once('close', () => backend.close());

  void backend.exited.then((code) => {
    // Output has ended by now, so every byte is queued ahead of the close frame.
    ws.close(1000, code === null ? 'The shell ended.' : `The shell exited with code ${code}.`);
    backend.close();
  });
}

function parseControl(text: string): TerminalSize | null {
  try {
    const message = JSON.parse(text) as { type?: unknown; cols?: unknown; rows?: unknown };
    return message?.type === 'resize' ? parseSize(message.cols, message.rows) : null;
  } catch {
    return null;
  }
}

/** A close reason must fit in 123 bytes. */
export function truncate(reason: string): string {
  const bytes = Buffer.from(reason);
  return bytes.length <= 123 ? reason : `${bytes.subarray(0, 120).toString('utf8').replace(/\uFFFD$/, '')}...`;
}
