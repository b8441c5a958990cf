import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { CloseCode, MAX_MESSAGE, SPACE_HEADER } from '../../../protocol/agent-wire.js';
import type { ServiceReport } from '../../../protocol/service-report.js';
import { hashToken } from '../auth/secrets.js';
import { KnotError } from '../errors.js';
import type { Services } from '../services.js';
import type { ServiceReports } from '../spaces/service-report.js';
import { agentConnected, agentSilent } from '../spaces/lifecycle.js';
import { publishSpace } from '../spaces/store.js';
import { isUuid } from '../templates/store.js';
import { AgentConnection } from './connection.js';
import { ReportWriter } from './report-writer.js';
import {
  claimSpace,
  dropLapsedReports,
  platformOf,
  releaseSpace,
  renewLeases,
  silentManualSpaces,
  stillSilent,
} from './store.js';
import type { AgentConnections, AgentShell } from './types.js';

/** A WebSocket close reason is at most 123 bytes of UTF-8. */
function closeReason(message: string): string {
  let reason = message;
  while (Buffer.byteLength(reason) > 123) reason = `${reason.slice(0, -2)}…`;
  return reason;
}

/**
 * The server end of every agent on this replica. Agents authenticate with their space's token,
 * report services (kept on the space row, so all replicas see them), and carry streams for
 * terminals, proxies and forwards. The row names this replica as the agent's (agent_replica_id),
 * so the others relay their streams here (server/src/relay/).
 *
 * One timer, every third of the silence timeout: agents silent past the timeout are closed, the
 * leases of the rest are renewed (a space whose token changed meanwhile loses its agent), and
 * lapsed leases anywhere — including those of a replica that died — are cleared.
 */
export class AgentGateway implements AgentConnections, ServiceReports {
  private connections = new Map<string, AgentConnection>();
  /** Who waits for a space's agent to connect (a terminal whose shell the agent kept through a lost connection). */
  private waiting = new Map<string, Set<() => void>>();
  private sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE });
  private timer: NodeJS.Timeout;
  private ticking = false;
  private disposed = false;
  private releases = new Set<Promise<unknown>>();
  private reports: ReportWriter;

  constructor(private services: Services) {
    this.reports = new ReportWriter(services.db, services.pubsub, services.log);
    const every = Math.max(100, Math.min(Math.floor(services.config.agentTimeoutMs / 3), 5_000));
    this.timer = setInterval(() => void this.tick(), every);
  }

  private get timeoutMs() {
    return this.services.config.agentTimeoutMs;
  }

  // --- AgentConnections and ServiceReports ---

  isConnected(spaceId: string): boolean {
    return this.connections.has(spaceId);
  }

  get(spaceId: string): ServiceReport | null {
    return this.connections.get(spaceId)?.report ?? null;
  }

  async dial(spaceId: string, port: number): Promise<Duplex> {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${port} is not a port number`);
    return this.connectionOf(spaceId).open({ kind: 'dial', port });
  }

  openShell(spaceId: string, options: { shell: string; cols: number; rows: number; keep?: string }): Promise<AgentShell> {
    return this.connectionOf(spaceId).openShell({ kind: 'shell', ...options });
  }

  resumeShell(spaceId: string, keep: string, from: number): Promise<AgentShell> {
    return this.connectionOf(spaceId).openShell({ kind: 'resume', keep, from });
  }

  whenConnected(spaceId: string, signal: AbortSignal): Promise<void> {
    if (this.connections.has(spaceId)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let waiting = this.waiting.get(spaceId);
      if (!waiting) this.waiting.set(spaceId, (waiting = new Set()));
      const forget = () => {
        waiting.delete(wake);
        if (!waiting.size && this.waiting.get(spaceId) === waiting) this.waiting.delete(spaceId);
      };
      const wake = () => {
        signal.removeEventListener('abort', abort);
        forget();
        resolve();
      };
      const abort = () => {
        forget();
        reject(signal.reason as Error);
      };
      if (signal.aborted) return abort();
      waiting.add(wake);
      signal.addEventListener('abort', abort, { once: true });
    });
  }

  private connectionOf(spaceId: string): AgentConnection {
    const connection = this.connections.get(spaceId);
    if (!connection) throw new Error('no agent is connected for this space');
    return connection;
  }

  // --- the /agent route ---

  /** Authenticates before the handshake completes; a refusal is a close code the agent logs. */
  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const { log } = this.services;
    socket.on('error', (err) => log.debug({ err }, 'agent socket error'));
    const spaceId = String(req.headers[SPACE_HEADER] ?? '');
    const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const from = req.socket.remoteAddress;
    let outcome: Awaited<ReturnType<typeof claimSpace>> | null = null;
    const session = randomUUID();
    try {
      if (token && isUuid(spaceId) && !this.disposed) {
        const { replicas, db } = this.services;
        const claim = () => claimSpace(db, spaceId, hashToken(token), session, this.timeoutMs, replicas.id, (column) => replicas.gone(column));
        outcome = await claim();
        // Held on another replica whose heartbeat is still fresh: if nothing listens at its address
        // any more, it crashed, and the agent (which lost it) is taken over now.
        if (!outcome.ok && outcome.reason === 'duplicate' && outcome.holder && outcome.holder !== replicas.id && (await replicas.confirmDead(outcome.holder))) {
          outcome = await claim();
        }
      }
    } catch (err) {
      log.error({ err, spaceId }, 'could not check an agent token');
      socket.destroy();
      return;
    }
    if (!socket.writable) {
      // Gone while we checked: give the claim back, or the agent's next try would be a "second agent".
      if (outcome?.ok) await releaseSpace(this.services.db, spaceId, session, 0).catch((err) => log.error({ err, spaceId }, 'could not release a claim'));
      return;
    }
    this.sockets.handleUpgrade(req, socket, head, (ws) => {
      if (!outcome?.ok) {
        const duplicate = outcome?.reason === 'duplicate';
        log.warn({ spaceId: spaceId.slice(0, 64), from }, duplicate ? 'refused a second agent for a space that has one' : 'refused an agent: wrong, revoked or missing token');
        ws.close(
          duplicate ? CloseCode.duplicate : CloseCode.unauthorized,
          duplicate ? 'another agent is connected for this space' : 'the agent token is not valid for this space',
        );
        return;
      }
      void this.accept(ws, outcome.space, token!, session);
    });
  }

  private async accept(ws: WebSocket, space: { id: string; ownerId: string; templateId: string }, token: string, session: string) {
    const { log, db } = this.services;
    const connection = new AgentConnection(
      ws,
      space.id,
      space.ownerId,
      session,
      hashToken(token),
      log,
      (report) => this.reports.write({ spaceId: space.id, ownerId: space.ownerId, session, report }),
      (health) => this.services.health.observe(space.id, health),
      // An SSH login or an open code-server with no traffic through Knot still means someone works there.
      () => this.services.activity.touch(space.id),
    );
    // Messages are handled from the first one; the manual start below does not hold them up.
    ws.on('message', (data, isBinary) => connection.handleMessage(data, isBinary));
    ws.on('error', (err) => log.warn({ spaceId: space.id, err: err.message }, 'agent connection error (e.g. a frame over the size limit)'));
    ws.once('close', (code) => this.onClose(connection, code));
    // A claim only succeeds once the previous holder's lease lapsed, so an old entry here is a dead agent.
    const previous = this.connections.get(space.id);
    if (previous) this.drop(previous, CloseCode.duplicate, 'replaced by a newer connection of this space\'s agent');
    this.connections.set(space.id, connection);
    for (const wake of [...(this.waiting.get(space.id) ?? [])]) wake();
    try {
      if ((await platformOf(db, space.templateId)) === 'MANUAL') {
        if (await agentConnected(this.services, space.id)) log.info({ spaceId: space.id }, 'manual space is running: its agent connected');
      }
    } catch (err) {
      if (err instanceof KnotError && (err.extensions.code === 'QUOTA_EXCEEDED' || err.extensions.code === 'FORBIDDEN')) {
        // Over quota, or the template is no longer open to the owner: the agent hears why and retries later.
        log.info({ spaceId: space.id, reason: err.message }, 'refused an agent: its manual space may not run');
        this.drop(connection, CloseCode.refused, closeReason(err.message));
        return;
      }
      log.error({ err, spaceId: space.id }, 'could not mark a manual space running');
    }
  }

  private onClose(connection: AgentConnection, code: number) {
    const { log, db, pubsub } = this.services;
    connection.dispose('the agent disconnected');
    if (this.connections.get(connection.spaceId) !== connection) return;
    this.connections.delete(connection.spaceId);
    log.info({ spaceId: connection.spaceId, code }, 'agent disconnected');
    // A dead injected agent is started again (a live one reconnects by itself; agent-revival.ts tells which).
    if (!this.disposed) this.services.agentRevival.lost(connection.spaceId);
    const hadReport = connection.report !== null;
    // The lease runs on from the last message, so the timeout counts silence, not connection time.
    const leaseLeft = this.timeoutMs - (Date.now() - connection.lastSeen);
    this.track(
      (async () => {
        await releaseSpace(db, connection.spaceId, connection.session, leaseLeft);
        if (hadReport) await publishSpace(pubsub, { id: connection.spaceId, ownerId: connection.ownerId }, 'SERVICES');
      })().catch((err) => log.error({ err, spaceId: connection.spaceId }, 'could not release a space after its agent left')),
    );
  }

  /**
   * Closes a connection and releases its space now: a silent agent may never answer the close
   * handshake, and its icons must not wait for the socket's own timeout.
   */
  private drop(connection: AgentConnection, code: number, reason: string) {
    connection.refuse(code, reason);
    this.onClose(connection, code);
    setTimeout(() => connection.ws.terminate(), 2_000).unref();
  }

  private track(promise: Promise<unknown>) {
    this.releases.add(promise);
    void promise.finally(() => this.releases.delete(promise));
  }

  private async tick() {
    if (this.ticking || this.disposed) return;
    this.ticking = true;
    const { db, pubsub, log } = this.services;
    try {
      const now = Date.now();
      const live: AgentConnection[] = [];
      for (const connection of [...this.connections.values()]) {
        if (now - connection.lastSeen > this.timeoutMs) this.drop(connection, CloseCode.silent, 'no report within the timeout');
        else live.push(connection);
      }
      const held = await renewLeases(db, live.map((c) => c.session), this.timeoutMs);
      for (const connection of live) {
        const tokenHash = held.get(connection.session);
        // Taken over by another replica that held this one for dead (a long stall): the agent reconnects to it.
        if (tokenHash === undefined) this.drop(connection, CloseCode.duplicate, 'another replica took this space over');
        else if (tokenHash !== connection.tokenHash) this.drop(connection, CloseCode.unauthorized, 'the agent token was revoked');
      }
      // All at once, so the events share NOTIFYs (a dead replica may leave thousands).
      await Promise.all((await dropLapsedReports(db)).map((space) => publishSpace(pubsub, space, 'SERVICES')));
      for (const id of await silentManualSpaces(db)) {
        if (await agentSilent(this.services, id, stillSilent)) log.info({ spaceId: id }, 'manual space stopped: its agent has been silent past the timeout');
      }
    } catch (err) {
      log.error({ err }, 'agent gateway housekeeping failed');
    } finally {
      this.ticking = false;
    }
  }

  /** Server shutdown: agents are told to go (they reconnect, maybe to another replica) and their claims released. */
  async dispose(): Promise<void> {
    this.disposed = true;
    clearInterval(this.timer);
    for (const connection of this.connections.values()) connection.ws.close(CloseCode.goingAway, 'server shutting down');
    for (const connection of [...this.connections.values()]) this.onClose(connection, CloseCode.goingAway);
    await this.reports.idle();
    while (this.releases.size) await Promise.allSettled([...this.releases]);
    for (const ws of this.sockets.clients) ws.terminate();
  }
}
