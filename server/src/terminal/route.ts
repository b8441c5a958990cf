import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { ACCESS_CHANGES, authorize, endOnRevocation, logRefusal, revocableSocket, Refusal, viewerOf, type Revocable, type SpaceAccess } from '../proxy/access.js';
import { mayUse, relationOf } from '../spaces/access.js';
import { findSpace } from '../spaces/store.js';
import type { Services } from '../services.js';
import { openAgentShell, resumeAgentShell } from './agent-shell.js';
import { DEFAULT_SIZE, parseSize, type TerminalBackend, type TerminalSize } from './backend.js';
import { openDockerShell } from './docker-shell.js';
import type { SessionElsewhere } from './session-records.js';
import type { TerminalSession } from './session.js';

/** How long a session taken over from a replica that died waits for the space's agent (reconnecting too). */
const TAKEOVER_WAIT_MS = 30_000;

/** A paste larger than this is refused (the socket closes with 1009): no one types a megabyte. */
export const MAX_TERMINAL_FRAME = 1024 * 1024;

/**
 * `GET /spaces/<id>/terminal?cols=&rows=` upgraded to a WebSocket. Binary frames carry terminal
 * bytes both ways; text frames carry JSON control messages (`{"type":"resize","cols":..,"rows":..}`).
 * The first text frame from the server names the session (`{"session":"<id>","position":n}`): the
 * shell outlives the socket (server/src/terminal/session.ts), and `?session=<id>` reattaches to it,
 * with `&from=<position>` to replay only the output after what the client already shows.
 * Refusals are a close with 4000 + HTTP status and a reason (4401, 4404, 4409, 4400, 4410, 4429, 4502).
 */
export function createTerminalRoute(services: Services) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_TERMINAL_FRAME });
  const live = new Set<Revocable & { ws: WebSocket }>();

  const offAuth = endOnRevocation(services, live);
  const offAccess = services.pubsub.on('space', (event) => {
    if (ACCESS_CHANGES.has(event.kind)) void endWithdrawnSessions(event.spaceId).catch((err) => services.log.error({ err }, 'could not end withdrawn terminal sessions'));
  });

  /**
   * A shell outlives its socket, so closing sockets is not enough when a space is unshared from a
   * user or changes hands: their sessions in it end at once, shell and all.
   */
  async function endWithdrawnSessions(spaceId: string) {
    const holders = services.terminals.usersIn(spaceId);
    if (!holders.size) return;
    const space = await findSpace(services.db, spaceId);
    for (const userId of holders) {
      if (space && mayUse(await relationOf(services.db, userId, false, space))) continue;
      services.terminals.endFor(spaceId, userId, 4404, 'You no longer have access to this space.');
    }
  }

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, spaceId: string) {
    socket.on('error', () => {});
    const url = new URL(req.url ?? '/', 'http://x');
    const viewer = await viewerOf(services, req);
    let access = await authorize(services, viewer, spaceId);
    const size = sizeFrom(url);
    const from = positionFrom(url);
    if (!(access instanceof Refusal) && !size) access = new Refusal(400, 'cols and rows must be whole numbers from 1 to 1000.');
    if (!(access instanceof Refusal) && from === null) access = new Refusal(400, 'from must be a whole number of bytes.');
    // A VS Code tunnel is created from a terminal, so either service opens one.
    if (!(access instanceof Refusal) && !access.template.withTerminal && !access.template.withVSCodeTunnel) {
      access = new Refusal(404, `The template of "${access.space.name}" has no terminal.`);
    }
    let session: TerminalSession | null = null;
    let elsewhere: SessionElsewhere | null = null;
    const sessionId = url.searchParams.get('session');
    if (!(access instanceof Refusal) && sessionId !== null) {
      session = services.terminals.find(sessionId, access.space.id, access.viewer.user.id);
      // Held by another replica (the browser reconnected through the load balancer), for the same user and space.
      if (!session) elsewhere = await services.terminals.elsewhere.locate(sessionId, access.space.id, access.viewer.user.id);
      // Another user's id answers like an expired one, so ids cannot be probed.
      if (!session && !elsewhere) access = new Refusal(410, 'That terminal session has ended.');
    }
    if (socket.destroyed) return;
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (access instanceof Refusal) {
        logRefusal(services, req, 'terminal', access, viewer, spaceId);
        ws.close(access.closeCode, truncate(access.reason));
        return;
      }
      const entry = { ...revocableSocket(services, ws, req, access.space.id), ws };
      live.add(entry);
      ws.once('close', () => live.delete(entry));
      // ws closes the socket itself (e.g. 1009 for a huge frame); the error only needs a log line.
      ws.on('error', (err) => services.log.info({ err: err.message }, 'terminal socket error'));
      // What the user types (and resizes) counts as activity for the idle timeout (scheduler/activity.ts).
      ws.on('message', () => services.activity.touch(access.space.id));
      const askedSize = url.searchParams.has('cols') ? size : null;
      if (session) return session.attach(ws, from ?? undefined, askedSize);
      if (elsewhere) return void reattachElsewhere(ws, access, elsewhere, from ?? undefined, askedSize);
      void serve(ws, access, size!);
    });
  }

  /**
   * The session is held by another replica. Live: the socket is relayed to it. Dead: a manual
   * space's shell was kept by its agent, so this replica takes the session over (same id, same
   * shell, output from what the browser shows); a Docker exec died with that replica, and the
   * browser hears so (4410: the page says it and opens a new shell).
   */
  async function reattachElsewhere(ws: WebSocket, access: SpaceAccess, held: SessionElsewhere, from: number | undefined, size: TerminalSize | null) {
    const request = { spaceId: access.space.id, session: held.id, userId: access.viewer.user.id, from, size };
    // Keystrokes wait in the socket until the session is there to take them (or the relay is open).
    ws.pause();
    // A paused socket would never read the browser's answer to our close frame: resume first.
    const refuse = (code: number, reason: string) => {
      ws.resume();
      ws.close(code, reason);
    };
    if (held.replica) {
      if (!services.remoteTerminals) return refuse(4410, 'That terminal session has ended.');
      return services.remoteTerminals.attach(ws, held.replica, request);
    }
    if (!held.keep || access.template.platform !== 'MANUAL') {
      await services.terminals.elsewhere.forgetDead(held);
      return refuse(4410, 'The Knot server holding this terminal stopped, and its shell ended with it.');
    }
    if (!(await services.terminals.elsewhere.takeOver(held))) {
      // Another replica took it over first: it is live there now.
      const now = await services.terminals.elsewhere.locate(held.id, access.space.id, access.viewer.user.id);
      if (now?.replica && services.remoteTerminals) return services.remoteTerminals.attach(ws, now.replica, request);
      return refuse(4410, 'That terminal session has ended.');
    }
    const shellSize = size ?? DEFAULT_SIZE;
    const detachMs = services.config.terminalDetachSeconds * 1000;
    let backend: TerminalBackend;
    try {
      // The agent lost the dead replica too and is reconnecting: it gets a little while.
      backend = await resumeAgentShell(services.agents, access.space.id, held.keep, from ?? 0, shellSize, detachMs, Math.min(detachMs, TAKEOVER_WAIT_MS), services.log, access.viewer.user.id);
    } catch (err) {
      services.log.info({ err, spaceId: access.space.id }, 'terminal: could not resume the shell of a replica that died');
      await services.terminals.elsewhere.forgetDead({ ...held, replicaId: services.replicas.id });
      return refuse(4410, truncate(`The Knot server holding this terminal stopped, and its shell could not be resumed (${(err as Error).message}).`));
    }
    const session = services.terminals.adopt(held, access.space.id, access.viewer.user.id, backend, shellSize, from ?? 0);
    services.log.info({ spaceId: access.space.id, userId: access.viewer.user.id, session: held.id.slice(0, 6), from }, 'terminal: took over the session of a replica that died');
    session.attach(ws, from, size);
    ws.resume();
  }

  async function serve(ws: WebSocket, access: SpaceAccess, size: TerminalSize) {
    if (!services.terminals.makeRoom(access.space.id, access.viewer.user.id)) {
      const limit = services.config.terminalSessionsPerSpace;
      return ws.close(4429, truncate(`You have ${limit} terminals open in "${access.space.name}": close one first.`));
    }
    // Keystrokes sent before the shell exists wait in the socket, not in memory we manage.
    ws.pause();
    let backend: TerminalBackend;
    try {
      backend = await open(access, size);
    } catch (err) {
      services.log.warn({ err, spaceId: access.space.id }, 'could not open a terminal');
      ws.resume();
      ws.close(4502, truncate(`Could not open a shell in "${access.space.name}": ${(err as Error).message}`));
      return;
    }
    if (ws.readyState !== ws.OPEN) return backend.close();
    const session = await services.terminals.create(access.space.id, access.viewer.user.id, backend, size);
    if (ws.readyState !== ws.OPEN) return session.end();
    services.log.info({ spaceId: access.space.id, userId: access.viewer.user.id, session: session.id.slice(0, 6) }, 'terminal opened');
    session.attach(ws, undefined, null);
    ws.resume();
  }

  function open(access: SpaceAccess, size: TerminalSize): Promise<TerminalBackend> {
    if (access.template.platform === 'MANUAL') {
      const detachMs = services.config.terminalDetachSeconds * 1000;
      return openAgentShell(services.agents, access.space.id, access.space.shell, size, detachMs, services.log, access.viewer.user.id);
    }
    if (!access.space.containerId) throw new Error('it has no container');
    return openDockerShell(services.runtime, services.log, access.space.containerId, access.space.shell, size);
  }

  return {
    upgrade,
    async dispose() {
      offAuth();
      offAccess();
      await services.terminals.closeAll('Knot is shutting down.');
      for (const { ws } of live) ws.close(1001, 'Knot is shutting down.');
    },
  };
}

/** `from`: absent (replay everything held), or a byte position; null when it is not one. */
function positionFrom(url: URL): number | undefined | null {
  const value = url.searchParams.get('from');
  if (value === null) return undefined;
  const n = Number(value);
  return /^\d{1,15}$/.test(value) && Number.isSafeInteger(n) ? n : null;
}

function sizeFrom(url: URL): TerminalSize | null {
  const cols = url.searchParams.get('cols');
  const rows = url.searchParams.get('rows');
  if (cols === null && rows === null) return DEFAULT_SIZE;
  return parseSize(cols ?? String(DEFAULT_SIZE.cols), rows ?? String(DEFAULT_SIZE.rows));
}

/** A close reason must fit in 123 bytes. */
export function truncate(reason: string): string {
  const bytes = Buffer.from(reason);
  return bytes.length <= 123 ? reason : `${bytes.subarray(0, 120).toString('utf8').replace(/\uFFFD$/, '')}...`;
}
