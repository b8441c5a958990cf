import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import type { WebSocket, WebSocketServer } from 'ws';
import { clientAddress } from '../auth/client-address.js';
import { isOwnOrigin } from '../auth/origin.js';
import { lostRights, viewerFromHeaders, type Viewer } from '../auth/viewer.js';
import type { Services } from '../services.js';
import type { Context } from './context.js';
import type { SocketContextSeed } from './http.js';

interface Extra {
  [key: PropertyKey]: unknown;
  socket: WebSocket;
  request: IncomingMessage;
  viewer?: Viewer;
  credential?: { token?: string; cookie?: string | undefined };
  /** Re-checks the credential when it expires, so an expired token cannot keep listening either. */
  expiryTimer?: NodeJS.Timeout;
}


/**
 * One user's open GraphQL sockets (on this server process) and one socket's operations at once.
 * A browser tab holds one socket with a handful of subscriptions and the CLI one per command, so
 * both leave room for dozens of tabs and integrations; past them it is a client gone wrong or
 * someone trying to hold the server's memory. Over a cap the socket is closed with 4429, which
 * graphql-ws clients treat as final (no reconnect loop), and a reason saying which cap.
 */
export const SOCKET_LIMITS = { socketsPerUser: 50, subscriptionsPerSocket: 100 } as const;
const TOO_MANY = 4429;

/** setTimeout's limit (about 24.8 days); a later expiry is re-checked then and rescheduled. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * graphql-ws on the /graphql path. A connection must authenticate (cookie or
 * `connectionParams.token`) or it is closed with 4403; when its credential is later revoked the
 * connection is closed too, so a revoked token cannot keep listening.
 */
export function attachGraphQLWebSocket(wss: WebSocketServer, yoga: YogaServerInstance<object, Context>, services: Services) {
  const live = new Set<Extra>();
  const socketsOf = new Map<string, number>();
  const countSocket = (userId: string, by: 1 | -1) => {
    const n = (socketsOf.get(userId) ?? 0) + by;
    if (n > 0) socketsOf.set(userId, n);
    else socketsOf.delete(userId);
  };

  const authenticate = async (extra: Extra) => {
    const result = await viewerFromHeaders(
      services.viewers,
      { authorization: extra.request.headers.authorization, cookie: extra.credential?.cookie },
      extra.credential?.token,
    );
    return result === 'invalid' ? null : result;
  };

  const accept = (extra: Extra, viewer: Viewer) => {
    extra.viewer = viewer;
    clearTimeout(extra.expiryTimer);
    const expiresAt = viewer.credential.expiresAt?.getTime();
    if (expiresAt !== undefined) {
      extra.expiryTimer = setTimeout(() => recheck(extra), Math.min(Math.max(expiresAt - Date.now(), 0) + 10, MAX_TIMER_MS));
    }
  };

  const recheck = (extra: Extra) => {
    void authenticate(extra).then(
      (viewer) => {
        if (!live.has(extra)) return;
        // Open subscriptions were authorised with the old rights; if any is gone, the client must
        // reconnect and subscribe again under the new ones.
        if (!viewer || (extra.viewer && lostRights(extra.viewer, viewer))) extra.socket.close(4403, 'Forbidden');
        else accept(extra, viewer);
      },
      (err) => services.log.error({ err }, 'could not re-check a WebSocket credential'),
    );
  };

  const offAuth = services.pubsub.on('auth', () => {
    for (const extra of live) recheck(extra);
  });

  wss.on('connection', (socket: WebSocket, request: IncomingMessage) => coalesceWritesPerTick(socket, request.socket));

  const server = useServer<Record<string, unknown> | undefined, Extra>(
    {
      execute: (args) => (args.rootValue as { execute: (a: ExecutionArgs) => unknown }).execute(args) as never,
      subscribe: (args) => (args.rootValue as { subscribe: (a: ExecutionArgs) => unknown }).subscribe(args) as never,
      onConnect: async (ctx) => {
        const token = ctx.connectionParams?.token;
        ctx.extra.credential = {
          token: typeof token === 'string' ? token : undefined,
          // Cookie-authenticated sockets must come from our own pages, or any site could ride the cookie.
          cookie: isOwnOrigin(ctx.extra.request.headers.origin, ctx.extra.request.headers.host, services.config.url)
            ? ctx.extra.request.headers.cookie
            : undefined,
        };
        const viewer = await authenticate(ctx.extra);
        if (!viewer) {
          services.log.info({ remote: ctx.extra.request.socket.remoteAddress }, 'refused a GraphQL WebSocket without valid credentials');
          return false;
        }
        if ((socketsOf.get(viewer.user.id) ?? 0) >= SOCKET_LIMITS.socketsPerUser) {
          services.log.warn({ userId: viewer.user.id }, 'refused a GraphQL WebSocket: too many for this user');
          ctx.extra.socket.close(TOO_MANY, `Too many connections for this user (at most ${SOCKET_LIMITS.socketsPerUser})`);
          return false;
        }
        countSocket(viewer.user.id, 1);
        live.add(ctx.extra);
        accept(ctx.extra, viewer);
        return true;
      },
      onClose: (ctx) => {
        clearTimeout(ctx.extra.expiryTimer);
        if (live.delete(ctx.extra) && ctx.extra.viewer) countSocket(ctx.extra.viewer.user.id, -1);
      },
      onSubscribe: async (ctx, _id, payload) => {
        // graphql-ws has already recorded this operation among the socket's open ones.
        if (Object.keys(ctx.subscriptions).length > SOCKET_LIMITS.subscriptionsPerSocket) {
          services.log.warn({ userId: ctx.extra.viewer?.user.id }, 'closed a GraphQL WebSocket: too many subscriptions on it');
          ctx.extra.socket.close(TOO_MANY, `Too many subscriptions on one connection (at most ${SOCKET_LIMITS.subscriptionsPerSocket})`);
          // The socket is closing; this answer is for the record (graphql-ws sends nothing on a closed socket).
          return [new GraphQLError('Too many subscriptions on one connection', { extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' } })];
        }
        const seed: SocketContextSeed = {
          socketViewer: ctx.extra.viewer ?? null,
          socketAddress: clientAddress(ctx.extra.request, services.config.trustProxy),
        };
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped(seed);
        let document;
        try {
          document = parse(payload.query);
        } catch (err) {
          return [err as never];
        }
        const args: ExecutionArgs = {
          schema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
        const errors = validate(args.schema, args.document);
        if (errors.length) return errors;
        services.metrics.subscriptions.inc();
        return args;
      },
      onComplete: () => void services.metrics.subscriptions.dec(),
    },
    wss,
  );

  return {
    async dispose() {
      offAuth();
      await server.dispose();
    },
  };
}

/**
 * A browser tab holds many subscriptions on one socket, and one event reaches them all in the same
 * tick: their frames go out in one write rather than one system call each. The socket is corked at
 * the first send of a tick and uncorked once the tick's promise jobs have run (setImmediate).
 */
function coalesceWritesPerTick(ws: WebSocket, raw: Duplex) {
  const send = ws.send.bind(ws);
  let corked = false;
  ws.send = ((...args: Parameters<WebSocket['send']>) => {
    if (!corked && !raw.destroyed) {
      corked = true;
      raw.cork();
      setImmediate(() => {
        corked = false;
        raw.uncork();
      });
    }
    return send(...args);
  }) as WebSocket['send'];
}
