import type { WebSocket } from 'ws';
import type { ReplicaAddress } from '../replicas/registry.js';
import type { TerminalSize } from './backend.js';

/** A browser's reattach to a session held by another replica: who asks, and what they already show. */
export interface RemoteSessionRequest {
  spaceId: string;
  session: string;
  /** The user this replica authorized; the holding replica serves only that user's session. */
  userId: string;
  from: number | undefined;
  size: TerminalSize | null;
}

/**
 * Joins a browser's terminal socket to a session held by another live replica (server/src/relay/
 * implements it): the frames pass both ways unchanged, so the holding replica replays what the
 * browser missed and goes on live, as if the browser had reached it directly.
 */
export interface RemoteTerminals {
  attach(ws: WebSocket, replica: ReplicaAddress, request: RemoteSessionRequest): void;
}
