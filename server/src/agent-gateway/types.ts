import type { Duplex } from 'node:stream';

/**
 * The server's handle on the agents connected from spaces. The agent gateway implements it; the
 * terminal route, the proxies and `knot forward` use it to reach into a space through the
 * agent's one WebSocket (streams multiplexed over it), which works for Docker and manual spaces alike.
 */
export interface AgentConnections {
  /** True while the space's agent is connected to this replica. */
  isConnected(spaceId: string): boolean;
  /**
   * A byte stream to `port` on the space's loopback, through its agent. Rejects if no agent or the
   * port refuses. Flow-controlled (a reader that stops reading holds the far producer back);
   * `end()` half-closes. When the far side aborts (or the agent goes) the stream is destroyed
   * without an 'error' event: 'close' without 'end', which `finished()`/`pipeline()` report as a
   * premature close. An agent connected to another replica is reached through it (server/src/relay/).
   * `asker` is the id of the user the caller authorized, for the logs of the replica that serves it.
   */
  dial(spaceId: string, port: number, asker?: string): Promise<Duplex>;
  /**
   * A login shell in a pty inside the space, through its agent. With `keep`, the agent keeps the
   * shell through a lost connection (for its KNOT_TERMINAL_DETACH_SECONDS) so `resumeShell` can
   * show it again on the next one.
   */
  openShell(spaceId: string, options: { shell: string; cols: number; rows: number; keep?: string }, asker?: string): Promise<AgentShell>;
  /**
   * A kept shell again, on the agent's current connection: its output from byte `from` on (what
   * reached us before the connection broke), then live. Rejects with AgentRefusal once the agent no
   * longer has it (it exited and was told, it expired, the agent restarted).
   */
  resumeShell(spaceId: string, keep: string, from: number, asker?: string): Promise<AgentShell>;
  /**
   * Resolves once the space's agent is connected (at once if it is): to this replica for the
   * gateway, to any live replica for the relaying wrapper. Rejects when `signal` aborts.
   */
  whenConnected(spaceId: string, signal: AbortSignal): Promise<void>;
}

/** The agent answered an open with no: the reason is its message. */
export class AgentRefusal extends Error {}

export interface AgentShell {
  /** Bytes to and from the pty. */
  stream: Duplex;
  resize(cols: number, rows: number): void;
  /** Resolves with the exit code when the shell ends; -1 when unknown (e.g. the agent went away). */
  exited: Promise<number>;
  /** True once the stream is gone because the agent's connection was lost, not because the shell ended. */
  readonly lost: boolean;
  close(): void;
  /**
   * Lets go of the stream but asks the agent to keep the shell for a resume (as if its connection
   * had dropped): the replica holding the shell's terminal died. Absent: close() it is.
   */
  detach?(): void;
}

/** Until an agent gateway is registered: nothing is connected. */
export const noAgents: AgentConnections = {
  isConnected: () => false,
  dial: () => Promise.reject(new Error('no agent is connected for this space')),
  openShell: () => Promise.reject(new Error('no agent is connected for this space')),
  resumeShell: () => Promise.reject(new Error('no agent is connected for this space')),
  whenConnected: (_spaceId, signal) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true })),
};
