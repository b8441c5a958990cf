import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import { AgentRefusal, type AgentConnections, type AgentShell } from '../agent-gateway/types.js';
import type { Logger } from '../logger.js';
import type { ReplicaRegistry } from '../replicas/registry.js';
import { RELAY_HEADER, signRelay, type RelayOpen } from './signature.js';
import { RELAY_REFUSED, relayStream, sendControl, type RelayControl } from './stream.js';

/** The internal route a replica serves its agents' streams to the other replicas on. */
export const RELAY_PATH = '/internal/relay';
/** Bytes of one relayed frame: what a stream chunk gives, well under this. */
export const MAX_RELAY_FRAME = 1024 * 1024;
/** How long the other replica has to open the stream (its agent has 10 s to answer; the handshake comes on top). */
const OPEN_TIMEOUT_MS = 15_000;
/** How often whenConnected looks for the agent on the other replicas. */
const LOCATE_EVERY_MS = 250;
/**
 * A replica that could not be reached is passed over this long: one that died still has a fresh
 * row and its agents' leases for a few seconds, and a shell waiting to resume must not hammer it.
 */
const UNREACHABLE_MS = 2_000;

/**
 * The server's handle on agents, wherever they are connected. An agent on this replica is used
 * directly; otherwise the replica holding it (spaces.agent_replica_id, live in `replicas`) is asked
 * over a WebSocket signed with the replicas' shared key, and the stream is relayed through it.
 * The caller has already authorized the user, exactly as for a local agent; the user's id travels
 * with the request so the other replica's log says who the stream is for.
 */
export class RelayingAgents implements AgentConnections {
  constructor(
    private local: AgentConnections,
    private registry: ReplicaRegistry,
    private secret: Buffer,
    private log: Logger,
  ) {}

  /** Replicas that refused a connection lately, until when. */
  private unreachable = new Map<string, number>();

  private async locate(spaceId: string) {
    const found = await this.registry.locate(spaceId);
    if (!found || found.id === this.registry.id) return null;
    const until = this.unreachable.get(found.id);
    if (until && until > Date.now()) return null;
    this.unreachable.delete(found.id);
    return found;
  }

  /** True while the agent is connected to this replica (a relayed one counts as elsewhere). */
  isConnected(spaceId: string): boolean {
    return this.local.isConnected(spaceId);
  }

  async dial(spaceId: string, port: number, asker?: string): Promise<Duplex> {
    if (this.local.isConnected(spaceId)) return this.local.dial(spaceId, port, asker);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${port} is not a port number`);
    return (await this.relay(spaceId, { kind: 'dial', port }, asker)).stream;
  }

  async openShell(spaceId: string, options: { shell: string; cols: number; rows: number; keep?: string }, asker?: string): Promise<AgentShell> {
    if (this.local.isConnected(spaceId)) return this.local.openShell(spaceId, options, asker);
    return this.relayShell(spaceId, { kind: 'shell', ...options }, asker);
  }

  async resumeShell(spaceId: string, keep: string, from: number, asker?: string): Promise<AgentShell> {
    if (this.local.isConnected(spaceId)) return this.local.resumeShell(spaceId, keep, from, asker);
    return this.relayShell(spaceId, { kind: 'resume', keep, from }, asker);
  }

  /** Connected here, or to a live replica that the next open is relayed to. */
  async whenConnected(spaceId: string, signal: AbortSignal): Promise<void> {
    const here = new AbortController();
    const stop = AbortSignal.any([signal, here.signal]);
    const local = this.local.whenConnected(spaceId, stop);
    local.catch(() => {});
    try {
      await Promise.race([local, this.locateUntil(spaceId, stop)]);
    } finally {
      here.abort(new Error('found'));
    }
  }

  private async locateUntil(spaceId: string, signal: AbortSignal): Promise<void> {
    for (;;) {
      signal.throwIfAborted();
      if (await this.locate(spaceId).catch(() => null)) return;
      await new Promise((resolve) => setTimeout(resolve, LOCATE_EVERY_MS).unref());
    }
  }

  /**
   * A shell on the agent of another replica. Its exit code comes as a message after its output;
   * a relay that closes without one means the shell was not seen to end (that replica or its agent
   * connection went): `lost`, so a kept shell is resumed wherever the agent is next.
   */
  private async relayShell(spaceId: string, open: RelayOpen, asker: string | undefined): Promise<AgentShell> {
    let code: number | null = null;
    const { ws, stream } = await this.relay(spaceId, open, asker, (message) => {
      if (message.t === 'exit' && Number.isInteger(message.code)) code = message.code;
    });
    let closed = false;
    const exited = new Promise<number>((resolve) =>
      stream.once('close', () => {
        closed = true;
        resolve(code ?? -1);
      }),
    );
    return {
      stream,
      resize: (cols, rows) => sendControl(ws, { t: 'resize', cols, rows }),
      exited,
      get lost() {
        return closed && code === null;
      },
      close: () => stream.destroy(),
    };
  }

  private async relay(spaceId: string, open: RelayOpen, asker: string | undefined, onControl: (message: RelayControl) => void = () => {}) {
    // The row may still name this replica for a moment after its agent left: that is no agent too.
    const target = await this.locate(spaceId);
    if (!target) throw new Error('no agent is connected for this space');
    const header = signRelay(this.secret, { to: target.id, from: this.registry.id, spaceId, open, by: asker ?? null });
    const ws = new WebSocket(`${target.url.replace(/^http/, 'ws')}${RELAY_PATH}`, {
      headers: { [RELAY_HEADER]: header },
      perMessageDeflate: false,
      maxPayload: MAX_RELAY_FRAME,
    });
    return new Promise<{ ws: WebSocket; stream: Duplex }>((resolve, reject) => {
      let settled = false;
      const settle = (err: Error | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (!err) return resolve({ ws, stream });
        this.log.info({ spaceId, replica: target.id, err: err.message }, 'could not relay to the replica holding the agent');
        stream.destroy();
        reject(err);
      };
      const timer = setTimeout(() => settle(new Error('the replica holding the agent did not answer in time')), OPEN_TIMEOUT_MS);
      const stream = relayStream(ws, (message) => (message.t === 'opened' ? settle(null) : onControl(message)));
      ws.once('unexpected-response', (request, response) => {
        request.destroy();
        settle(new Error(`the replica holding the agent refused the relay (HTTP ${response.statusCode})`));
      });
      ws.once('error', (err) => {
        if (!settled) this.unreachable.set(target.id, Date.now() + UNREACHABLE_MS);
        settle(new Error(`the replica holding the agent is unreachable: ${err.message}`));
      });
      // Its agent refused (a closed port, a failing shell): the reason is the agent's own words.
      ws.once('close', (code, reason) => {
        const message = reason.toString() || `the relay closed (${code})`;
        settle(code === RELAY_REFUSED ? new AgentRefusal(message) : new Error(message));
      });
    });
  }
}
