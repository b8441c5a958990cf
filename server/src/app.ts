import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { ensureBuiltInRoles } from './auth/accounts.js';
import { ViewerResolver } from './auth/viewer.js';
import { loadConfig, type Config } from './config.js';
import { openDatabase } from './db.js';
import { createGraphQL } from './graphql/http.js';
import { attachGraphQLWebSocket } from './graphql/websocket.js';
import { createWebHandler } from './http/web.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics } from './metrics.js';
import { createPubSub } from './pubsub.js';
import type { Services } from './services.js';

export interface AppOptions {
  config?: Partial<Config>;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

export interface App {
  services: Services;
  /** Listens on `port` (0 picks a free one) and resolves to the base URL. */
  start(port?: number, host?: string): Promise<string>;
  stop(): Promise<void>;
}

type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** Builds every part of one Knot server; nothing listens until start(). */
export async function createApp(options: AppOptions = {}): Promise<App> {
  const config = loadConfig(options.env ?? process.env, options.config);
  const log = options.logger ?? createLogger(config.logLevel);
  const database = await openDatabase(config);
  await ensureBuiltInRoles(database.db);
  const pubsub = await createPubSub(database, log);
  const metrics = createMetrics();
  const services: Services = {
    config,
    database,
    db: database.db,
    pubsub,
    log,
    metrics,
    viewers: new ViewerResolver(database.db, pubsub),
  };

  const yoga = createGraphQL(services);
  const web = createWebHandler();
  const graphqlSockets = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  const graphqlWs = attachGraphQLWebSocket(graphqlSockets, yoga, services);
  const upgrades = new Map<string, UpgradeHandler>([
    ['/graphql', (req, socket, head) => graphqlSockets.handleUpgrade(req, socket, head, (ws) => graphqlSockets.emit('connection', ws, req))],
  ]);

  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => unknown> = {
    '/graphql': (req, res) => yoga(req, res),
    '/healthz': async (_req, res) => {
      try {
        await database.ping();
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', database: 'ok' }));
      } catch (err) {
        log.error({ err }, 'health check: database is not answering');
        res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'unavailable', database: 'unreachable' }));
      }
    },
    '/metrics': async (_req, res) => {
      res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(await metrics.registry.metrics());
    },
  };

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const route = routes[path] ? path : 'web';
    const stopTimer = metrics.latency.startTimer({ route });
    res.on('finish', () => {
      stopTimer();
      metrics.requests.inc({ route, status: String(res.statusCode) });
    });
    (routes[path] ?? web)(req, res);
  });
  server.on('upgrade', (req, socket, head) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const handler = upgrades.get(path);
    if (!handler) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    metrics.sockets.inc({ route: path });
    socket.once('close', () => metrics.sockets.dec({ route: path }));
    handler(req, socket, head);
  });

  let stopping: Promise<void> | undefined;
  return {
    services,
    start(port = config.port, host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const address = server.address();
          const actual = typeof address === 'object' && address ? address.port : port;
          log.info({ port: actual, database: database.kind }, 'knot is listening');
          resolve(`http://127.0.0.1:${actual}`);
        });
      });
    },
    stop() {
      // Sockets first (clients see a clean close and reconnect elsewhere), then in-flight HTTP drains, then the pool.
      stopping ??= (async () => {
        for (const client of graphqlSockets.clients) client.close(1001, 'Server shutting down');
        await graphqlWs.dispose();
        server.closeIdleConnections();
        const drained = new Promise<void>((resolve) => server.close(() => resolve()));
        const timeout = setTimeout(() => server.closeAllConnections(), 5_000);
        if (server.listening) await drained;
        clearTimeout(timeout);
        await pubsub.close();
        await database.close();
        log.info('knot stopped');
      })();
      return stopping;
    },
  };
}
