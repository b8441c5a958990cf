import { createServer, type IncomingMessage, type Server } from 'node:http';
import { LoginThrottle } from './auth/login-throttle.js';
import { WebSocketServer } from 'ws';
import { ensureBuiltInRoles } from './auth/accounts.js';
import { sessionCookieName, ViewerResolver } from './auth/viewer.js';
import { loadConfig, type Config } from './config.js';
import { openDatabase } from './db.js';
import { createGraphQL } from './graphql/http.js';
import { attachGraphQLWebSocket } from './graphql/websocket.js';
import { allowedHosts } from './http/allowed-hosts.js';
import { readBodyWithin } from './http/body-limit.js';
import { metricsRoute } from './http/metrics-route.js';
import { createWebHandler } from './http/web.js';
import { Router, type RequestHandler, type RouteEntry, type UpgradeHandler } from './http/router.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics } from './metrics.js';
import { createPubSub } from './pubsub.js';
import type { Services } from './services.js';
import { loadCryptoBox } from './crypto-box.js';
import { createRuntime } from './runtime-choice.js';
import { SpaceJobs } from './spaces/jobs.js';
import { SpaceHealth } from './spaces/health.js';
import { AgentRevival } from './spaces/agent-revival.js';
import { GarbageCollector } from './spaces/garbage-collector.js';
import { loadInstallationId } from './installation.js';
import { UpgradedSockets, waitAtMost } from './shutdown.js';
import { noReports } from './spaces/service-report.js';
import { noAgents } from './agent-gateway/types.js';
import { onContainerEvent, reconcileAtBoot, reconcileRunning } from './spaces/reconcile.js';
import { LABELS } from './spaces/deps.js';
import { spaceRoutesFeature } from './proxy/routes.js';
import { TerminalSessions } from './terminal/sessions.js';
import { TemplateImagePulls } from './templates/image-pulls.js';
import { agentGatewayFeature } from './agent-gateway/index.js';
import { oidcFeature } from './oidc/routes.js';
import type { Feature } from './feature.js';
import { ActivityRecorder } from './scheduler/activity.js';
import { Scheduler } from './scheduler/scheduler.js';
import { relayFeature } from './relay/index.js';
import { ReplicaRegistry } from './replicas/registry.js';
import { loadReplicaSecret } from './replicas/secret.js';
import { WebhookDeliveryWorker } from './webhooks/delivery-worker.js';

export interface AppOptions {
  config?: Partial<Config>;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

export interface App {
  services: Services;
  /**
   * Every HTTP and WebSocket route the server answers, in the order it tries them; an HTTP request
   * no route takes goes to the web UI, an upgrade no route takes gets a 404.
   */
  routes(): RouteEntry[];
  /** Listens on `port` (0 picks a free one) and resolves to the base URL. */
  start(port?: number, host?: string): Promise<string>;
  stop(): Promise<void>;
}

// The agent gateway first: it sets services.agents, which the relay wraps and the space routes use.
const FEATURES: Feature[] = [agentGatewayFeature, relayFeature, spaceRoutesFeature, oidcFeature];

const MAX_GRAPHQL_BODY = 1024 * 1024;
/**
 * Shutdown: how long sockets, requests, jobs and the collector get to finish by themselves (all at
 * once), then the event listener, then the database; a few seconds in all, as orchestrators expect.
 */
const SETTLE_MS = 2_000;
const CLOSE_MS = 1_000;
/** The embedded PostgreSQL writes a checkpoint as it stops; cut off, it still finishes (it is sent SIGINT when Knot exits). */
const DATABASE_CLOSE_MS = 3_000;
const UNKNOWN_HOST = 'Knot does not answer to this host name. Reach it at the address in KNOT_URL (docs/security.md).\n';

/** Builds every part of one Knot server; nothing listens until start(). */
export async function createApp(options: AppOptions = {}): Promise<App> {
  const config = loadConfig(options.env ?? process.env, options.config);
  // Before the database opens: an engine refused for want of TLS stops the start with nothing to undo.
  const runtime = createRuntime(config);
  const log = options.logger ?? createLogger(config.logLevel);
  const database = await openDatabase(config, log);
  await ensureBuiltInRoles(database.db);
  const instanceId = await loadInstallationId(database.db);
  const pubsub = await createPubSub(database, log, { maxBacklog: config.subscriptionBacklog });
  const metrics = createMetrics();
  const bootedAt = new Date();
  const replicas = new ReplicaRegistry(database.db, log, config.replicaHeartbeatMs);
  const services: Services = {
    config,
    database,
    db: database.db,
    pubsub,
    log,
    metrics,
    viewers: new ViewerResolver(database.db, pubsub, sessionCookieName(config.secureCookies)),
    loginThrottle: new LoginThrottle(),
    box: loadCryptoBox(config.dataDir),
    runtime,
    spaceJobs: undefined as unknown as SpaceJobs,
    health: undefined as unknown as SpaceHealth,
    agentRevival: undefined as unknown as AgentRevival,
    instanceId,
    garbageCollector: undefined as unknown as GarbageCollector,
    serviceReports: noReports,
    agents: noAgents,
    remoteTerminals: null,
    terminals: new TerminalSessions(database.db, replicas, config.terminalDetachSeconds * 1000, config.terminalSessionsPerSpace, log),
    scheduler: undefined as unknown as Scheduler,
    activity: undefined as unknown as ActivityRecorder,
    templateImages: undefined as unknown as TemplateImagePulls,
    oidc: null,
    replicas,
    replicaSecret: await loadReplicaSecret(database.db, config.replicaSecret),
    webhooks: undefined as unknown as WebhookDeliveryWorker,
  };
  services.spaceJobs = new SpaceJobs(services);
  services.health = new SpaceHealth(services, services.spaceJobs, {
    restartBackoffMs: config.healthRestartBackoffSeconds * 1_000,
    restartLimit: config.healthRestartLimit,
  });
  services.agentRevival = new AgentRevival(services);
  services.activity = new ActivityRecorder(services);
  services.scheduler = new Scheduler(services, services.spaceJobs);
  services.templateImages = new TemplateImagePulls(services);
  services.webhooks = new WebhookDeliveryWorker(services, { baseMs: config.webhookRetryBaseMs, maxAttempts: config.webhookMaxAttempts });

  // Docker is the truth: follow its events, and settle what a previous server left half-done.
  const oomSeen = new Set<string>();
  const dockerEvents = services.runtime.watchEvents(
    (event) => {
      if (event.action === 'health_status') return services.health.observeDocker(event);
      services.spaceJobs.run((deps) => onContainerEvent(deps, event, oomSeen));
    },
    {
      labels: { [LABELS.managed]: 'true' },
      onError: (err) => log.warn({ err: err.message }, 'lost the Docker events stream; retrying'),
      onReconnect: () => {
        log.info('Docker events stream is back; reconciling spaces');
        services.spaceJobs.run((deps) => reconcileRunning(deps));
      },
    },
  );
  services.spaceJobs.run((deps) => reconcileAtBoot(deps, bootedAt));
  services.garbageCollector = new GarbageCollector(services, database);
  services.garbageCollector.start();
  services.scheduler.start();
  services.webhooks.start();

  const yoga = createGraphQL(services);
  const web = createWebHandler();
  const graphqlSockets = new WebSocketServer({ noServer: true, maxPayload: MAX_GRAPHQL_BODY });
  const graphqlWs = attachGraphQLWebSocket(graphqlSockets, yoga, services);
  const router = new Router()
    .route('/graphql', {
      http: async (req, res) => {
        // The same bound as a WebSocket message: no real operation comes near it. Counted as the body
        // streams, so neither a chunked body nor a false Content-Length gets Yoga to buffer more.
        if (req.method === 'GET' || req.method === 'HEAD') return yoga(req, res);
        const body = await readBodyWithin(req, res, MAX_GRAPHQL_BODY, 'The request is too large (at most 1 MB).');
        if (!body) return;
        // Yoga takes an already-read body from `req.body` instead of the (now consumed) stream.
        if (body.length > 0) (req as IncomingMessage & { body?: Buffer }).body = body;
        return yoga(req, res);
      },
      upgrade: (req, socket, head) => graphqlSockets.handleUpgrade(req, socket, head, (ws) => graphqlSockets.emit('connection', ws, req)),
    })
    .route('/healthz', {
      http: async (_req, res) => {
        try {
          await database.ping();
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', database: 'ok' }));
        } catch (err) {
          log.error({ err }, 'health check: database is not answering');
          res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'unavailable', database: 'unreachable' }));
        }
      },
    })
    .route('/metrics', { http: metricsRoute(config, metrics) });
  const features = await Promise.all(FEATURES.map((register) => register(services, router)));

  // Other replicas reach this one at its internal URL (relayed streams).
  const hostAllowed = allowedHosts(config, () => services.replicas.address?.url);
  const server: Server = createServer((req, res) => {
    if (!hostAllowed(req.headers.host)) {
      metrics.requests.inc({ route: 'unknown-host', status: '421' });
      res.writeHead(421, { 'content-type': 'text/plain', connection: 'close' }).end(UNKNOWN_HOST);
      return;
    }
    const found = router.find(req, 'http');
    const route = found?.name ?? 'web';
    const stopTimer = metrics.latency.startTimer({ route });
    res.on('finish', () => {
      stopTimer();
      metrics.requests.inc({ route, status: String(res.statusCode) });
    });
    ((found?.handler as RequestHandler | undefined) ?? web)(req, res);
  });
  const upgraded = new UpgradedSockets();
  server.on('upgrade', (req, socket, head) => {
    upgraded.add(socket);
    if (!hostAllowed(req.headers.host)) {
      socket.end(`HTTP/1.1 421 Misdirected Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${UNKNOWN_HOST}`);
      return;
    }
    const found = router.find(req, 'upgrade');
    if (!found) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    metrics.sockets.inc({ route: found.name });
    socket.once('close', () => metrics.sockets.dec({ route: found.name }));
    (found.handler as UpgradeHandler)(req, socket, head);
  });

  let stopping: Promise<void> | undefined;
  return {
    services,
    routes: () => router.list(),
    start(port = config.port, host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const address = server.address();
          const actual = typeof address === 'object' && address ? address.port : port;
          // A server bound to one address is reached there; one bound to all, at this host's address.
          const bound = host && !['0.0.0.0', '::'].includes(host) ? `http://${host.includes(':') ? `[${host}]` : host}:${actual}` : undefined;
          services.replicas.register(config.replicaUrl ?? bound, actual).then(() => {
            log.info({ port: actual, database: database.kind }, 'knot is listening');
            resolve(`http://127.0.0.1:${actual}`);
          }, reject);
        });
      });
    },
    stop() {
      stopping ??= (async () => {
        const began = Date.now();
        // No new connections from here: an agent or a page that reconnects goes to another replica
        // (or waits for this one's restart) instead of holding this one open.
        // (Never started: close answers at once, with an error that means the same.)
        const drained = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        // Clients hear a clean close (1001) and reconnect elsewhere; agents' claims are released so they
        // may; HTTP requests in flight finish; jobs and the collector get a moment to reach a step's end.
        for (const client of graphqlSockets.clients) client.close(1001, 'Server shutting down');
        dockerEvents.close();
        services.health.dispose();
        // The other replicas stop relaying here now, not when this row goes stale.
        const unregistered = services.replicas.dispose();
        await Promise.all([
          waitAtMost(log, 'WebSocket clients to close', SETTLE_MS, graphqlWs.dispose()),
          waitAtMost(log, 'routes to close their sockets', SETTLE_MS, (async () => {
            for (const feature of features) await feature?.dispose?.();
          })()),
          waitAtMost(log, 'the garbage collector', SETTLE_MS, services.garbageCollector.stop()),
          waitAtMost(log, 'an agent restart under way', SETTLE_MS, services.agentRevival.dispose()),
          waitAtMost(log, 'the scheduler and the last activity', SETTLE_MS, Promise.all([services.scheduler.stop(), services.activity.stop()])),
          // An attempt cut off here is claimed again by a replica once its claim runs out.
          waitAtMost(log, 'webhook deliveries in flight', SETTLE_MS, services.webhooks.stop()),
          waitAtMost(log, 'space jobs (the next start settles their spaces)', SETTLE_MS, services.spaceJobs.idle()),
          waitAtMost(log, 'HTTP requests in flight', SETTLE_MS, drained),
        ]);
        // Whoever has not gone by now (a peer that never answers a close frame) is cut.
        server.closeAllConnections();
        const cut = upgraded.destroyAll();
        if (cut) log.info({ sockets: cut }, 'shutdown: cut sockets that did not close in time');
        await waitAtMost(log, 'this replica\'s row to go', CLOSE_MS, unregistered);
        await waitAtMost(log, 'the event listener to close', CLOSE_MS, pubsub.close());
        services.runtime.close();
        await waitAtMost(log, 'the database to close', DATABASE_CLOSE_MS, database.close());
        log.info({ ms: Date.now() - began }, 'knot stopped');
      })();
      return stopping;
    },
  };
}
