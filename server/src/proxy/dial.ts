import { Agent, type AgentOptions } from 'node:http';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import type { Services } from '../services.js';

type SocketLike = Duplex & Partial<Record<'setTimeout' | 'setNoDelay' | 'setKeepAlive' | 'ref' | 'unref', (...args: unknown[]) => unknown>>;

/**
 * Node's HTTP client and http-proxy call socket methods (setTimeout, setNoDelay, setKeepAlive)
 * that a stream multiplexed over the agent's WebSocket does not have; on such a stream they
 * mean nothing, so they become no-ops.
 */
export function asSocket(stream: Duplex): Duplex {
  const socket = stream as SocketLike;
  for (const method of ['setNoDelay', 'setKeepAlive', 'ref', 'unref'] as const) {
    if (typeof socket[method] !== 'function') socket[method] = () => socket;
  }
  if (typeof socket.setTimeout !== 'function') {
    socket.setTimeout = (_ms: unknown, callback?: unknown) => {
      if (typeof callback === 'function') socket.once('timeout', callback as () => void);
      return socket;
    };
  }
  return socket;
}

/** A byte stream to `port` on the space's loopback, through its agent (on this replica or relayed), for user `asker`. */
export async function dialSpace(services: Services, spaceId: string, port: number, asker: string): Promise<Duplex> {
  return asSocket(await services.agents.dial(spaceId, port, asker));
}

/**
 * An HTTP agent whose every connection is a dial into the space (and, for HTTPS ports, TLS over
 * it: dev servers use self-signed certificates, and the hop is already inside the space, so the
 * certificate is not checked). One per request, without keep-alive: dials are cheap streams on
 * the agent's one WebSocket, and a pooled stream would outlive the checks made for its request.
 */
export function spaceAgent(services: Services, spaceId: string, port: number, tls: boolean, asker: string): Agent {
  const agent = new Agent({ keepAlive: false } satisfies AgentOptions);
  (agent as unknown as { createConnection: unknown }).createConnection = (
    options: { servername?: string; host?: string },
    callback: (err: Error | null, socket?: Duplex) => void,
  ) => {
    dialSpace(services, spaceId, port, asker).then(
      (stream) => {
        if (!tls) return callback(null, stream);
        const secure = tlsConnect({ socket: stream, servername: options.servername ?? 'localhost', rejectUnauthorized: false });
        callback(null, secure);
      },
      (err: Error) => callback(err),
    );
    return undefined;
  };
  return agent;
}
