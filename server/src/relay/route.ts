import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { AgentRefusal, type AgentConnections, type AgentShell } from '../agent-gateway/types.js';
import type { Logger } from '../logger.js';
import { answer } from '../proxy/reverse-proxy.js';
import type { ReplicaRegistry } from '../replicas/registry.js';
import { MAX_RELAY_FRAME } from './client.js';
import { RELAY_HEADER, SeenNonces, verifyRelay, type RelayClaims, type RelayOpen } from './signature.js';
import { parseSize } from '../terminal/backend.js';
import type { TerminalSessions } from '../terminal/sessions.js';
import { truncate } from '../terminal/route.js';
import { RELAY_FAILED, RELAY_REFUSED, relayStream, sendControl } from './stream.js';

/**
 * `/internal/relay`: another replica's way to this replica's agents. Only a request signed with
 * the replicas' key, for this replica, fresh and never seen before is served; a user's cookie or
 * token means nothing here (the replica that relays has authorized the user already). A refusal is
 * a plain 401 before any WebSocket exists.
 */
export function createRelayRoute(local: AgentConnections, terminals: TerminalSessions, registry: ReplicaRegistry, secret: Buffer, log: Logger) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_RELAY_FRAME, perMessageDeflate: false });
  const nonces = new SeenNonces();

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    socket.on('error', () => {});
    const header = req.headers[RELAY_HEADER];
    let claims = verifyRelay(secret, typeof header === 'string' ? header : undefined, registry.id);
    if (typeof claims !== 'string' && !nonces.fresh(claims)) claims = 'a replayed signature';
    if (typeof claims === 'string') {
      log.warn({ remote: req.socket.remoteAddress, reason: claims }, 'refused a relay request');
      return answer(socket, 401, 'Only another replica of this Knot may relay here.');
    }
    if (claims.open.kind === 'session') return attachSession(req, socket, head, claims, claims.open);
    const opened = await open(claims);
    if (socket.destroyed) {
      if (!(opened instanceof Error)) opened.close();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (opened instanceof Error) return ws.close(opened instanceof AgentRefusal ? RELAY_REFUSED : RELAY_FAILED, truncate(opened.message));
      log.info({ spaceId: claims.spaceId, kind: claims.open.kind, userId: claims.by, fromReplica: claims.from }, 'relaying a stream to this replica\'s agent');
      serve(ws, opened);
    });
  }

  /**
   * A browser reconnected through another replica to a terminal session held here: the relay
   * socket is attached to the session like the browser's own (replay from `from`, then live).
   * Only the session of the user and space the other replica authorized is found.
   */
  function attachSession(req: IncomingMessage, socket: Duplex, head: Buffer, claims: RelayClaims, open: Extract<RelayOpen, { kind: 'session' }>) {
    const session = claims.by ? terminals.find(open.session, claims.spaceId, claims.by) : null;
    const size = open.cols === undefined && open.rows === undefined ? null : parseSize(open.cols, open.rows);
    const from = Number.isSafeInteger(open.from) && open.from! >= 0 ? open.from : undefined;
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (!session) return ws.close(4410, 'That terminal session has ended.');
      log.info({ spaceId: claims.spaceId, userId: claims.by, fromReplica: claims.from, session: open.session.slice(0, 6) }, 'relaying a terminal session held here');
      session.attach(ws, from, size);
    });
  }

  async function open(claims: RelayClaims): Promise<Opened | Error> {
    const request = claims.open;
    try {
      if (request.kind === 'dial') {
        const stream = await local.dial(claims.spaceId, request.port, claims.by ?? undefined);
        return { stream, close: () => stream.destroy() };
      }
      if (request.kind === 'shell' || request.kind === 'resume') {
        const shell =
          request.kind === 'shell'
            ? await local.openShell(claims.spaceId, { shell: request.shell, cols: request.cols, rows: request.rows, keep: request.keep }, claims.by ?? undefined)
            : await local.resumeShell(claims.spaceId, request.keep, request.from, claims.by ?? undefined);
        return { stream: shell.stream, shell, close: () => shell.close() };
      }
      return new Error('unknown relay request');
    } catch (err) {
      return err as Error;
    }
  }

  return { upgrade, dispose: () => wss.clients.forEach((ws) => ws.terminate()) };
}

interface Opened {
  stream: Duplex;
  shell?: AgentShell;
  close(): void;
}

/**
 * Joins the relay socket and the agent's stream: bytes both ways with backpressure (pipe), ends
 * passed on as half-closes, and an abort on either side ends the other. A shell's exit code
 * follows its last output.
 */
function serve(ws: WebSocket, { stream: inner, shell }: Opened) {
  const remote = relayStream(ws, (message) => {
    if (message.t === 'resize' && shell) shell.resize(message.cols, message.rows);
  });
  sendControl(ws, { t: 'opened' });
  remote.pipe(inner);
  inner.pipe(remote);
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    inner.destroy();
    remote.destroy();
  };
  remote.on('error', finish);
  inner.on('error', finish);
  // The replica on the other end died (no close frame): the shell is detached, not ended, so the
  // agent keeps it and whichever replica takes the terminal over resumes it (terminal/route.ts).
  let farDied = false;
  ws.once('close', (code) => (farDied = code === 1006));
  remote.once('close', () => {
    if (farDied && shell?.detach && !done) {
      done = true;
      shell.detach();
      remote.destroy();
      return;
    }
    finish();
  });
  const afterLastBytes = (then: () => void) => (remote.writableFinished ? then() : remote.once('finish', then));
  inner.once('close', () => {
    // Aborted (the agent went, the port reset): the other replica hears it at once.
    if (!inner.readableEnded) return finish();
    // A shell ends with its exit code, below.
    if (!shell) afterLastBytes(finish);
  });
  // The agent half-closes a shell's stream when it exits (the exit code first): the code follows the
  // last output and the end, then the socket closes. A shell lost with the agent's connection has
  // no code: the other replica then tries to resume it wherever the agent comes back.
  void shell?.exited.then((code) =>
    afterLastBytes(() => {
      if (!shell.lost) sendControl(ws, { t: 'exit', code });
      finish();
    }),
  );
}
