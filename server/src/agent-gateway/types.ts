import type { Duplex } from 'node:stream';

/**
 * The server's handle on the agents connected from spaces. The agent gateway implements it; the
 * terminal route, the proxies and `knot forward` use it to reach into a space through the
 * agent's one WebSocket (streams multiplexed over it), which works for Docker and manual spaces alike.
 */
export interface AgentConnections {
  /** True while the space's agent is connected. */
  isConnected(spaceId: string): boolean;
  /**
   * A byte stream to `port` on the space's loopback, through its agent. Rejects if no agent or the
   * port refuses. Flow-controlled (a reader that stops reading holds the far producer back);
   * `end()` half-closes. When the far side aborts (or the agent goes) the stream is destroyed
   * without an 'error' event: 'close' without 'end', which `finished()`/`pipeline()` report as a
   * premature close. Streams reach only agents connected to this replica.
   */
  dial(spaceId: string, port: number): Promise<Duplex>;
  /** A login shell in a pty inside the space, through its agent. */
  openShell(spaceId: string, options: { shell: string; cols: number; rows: number }): Promise<AgentShell>;
}

export interface AgentShell {
  /** Bytes to and from the pty. */
  stream: Duplex;
  resize(cols: number, rows: number): void;
  /** Resolves with the exit code when the shell ends; -1 when unknown (e.g. the agent went away). */
  exited: Promise<number>;
  close(): void;
}

/** Until an agent gateway is registered: nothing is connected. */
export const noAgents: AgentConnections = {
  isConnected: () => false,
  dial: () => Promise.reject(new Error('no agent is connected for this space')),
  openShell: () => Promise.reject(new Error('no agent is connected for this space')),
};
