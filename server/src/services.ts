import type { LoginThrottle } from './auth/login-throttle.js';
import type { ViewerResolver } from './auth/viewer.js';
import type { Config } from './config.js';
import type { Database, Db } from './db.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { PubSub } from './pubsub.js';
import type { CryptoBox } from './crypto-box.js';
import type { Runtime } from './runtime/index.js';
import type { SpaceJobs } from './spaces/jobs.js';
import type { AgentRevival } from './spaces/agent-revival.js';
import type { SpaceHealth } from './spaces/health.js';
import type { GarbageCollector } from './spaces/garbage-collector.js';
import type { ServiceReports } from './spaces/service-report.js';
import type { AgentConnections } from './agent-gateway/types.js';
import type { TerminalSessions } from './terminal/sessions.js';
import type { RemoteTerminals } from './terminal/remote.js';
import type { ActivityRecorder } from './scheduler/activity.js';
import type { Scheduler } from './scheduler/scheduler.js';
import type { TemplateImagePulls } from './templates/image-pulls.js';
import type { OidcProvider } from './oidc/provider.js';
import type { ReplicaRegistry } from './replicas/registry.js';
import type { WebhookDeliveryWorker } from './webhooks/delivery-worker.js';

/** What resolvers and routes reach for; built once by createApp. */
export interface Services {
  config: Config;
  database: Database;
  db: Db;
  pubsub: PubSub;
  log: Logger;
  viewers: ViewerResolver;
  loginThrottle: LoginThrottle;
  metrics: Metrics;
  box: CryptoBox;
  runtime: Runtime;
  spaceJobs: SpaceJobs;
  /** Space.health, and automatic restarts of unhealthy spaces. */
  health: SpaceHealth;
  /** Starts the injected agent of a running space again when it dies (asked by the agent gateway). */
  agentRevival: AgentRevival;
  /** This installation's id, labelled on every Docker object it creates. */
  instanceId: string;
  garbageCollector: GarbageCollector;
  /** Replaced by the agent gateway when it registers. */
  serviceReports: ServiceReports;
  agents: AgentConnections;
  /** Shells that outlive their sockets (the web terminal's sessions). */
  terminals: TerminalSessions;
  /** Terminal sessions held by other replicas, reached through the relay; set by its feature. */
  remoteTerminals: RemoteTerminals | null;
  /** Automatic stops (schedule, maximum uptime, idle) and their warnings. */
  scheduler: Scheduler;
  /** Where terminals, proxies and the agent gateway count a space's activity. */
  activity: ActivityRecorder;
  /** Template images pulled ahead of the first start, with live progress. */
  templateImages: TemplateImagePulls;
  /** The OpenID Connect provider when single sign-on is configured; set by its feature. */
  oidc: OidcProvider | null;
  /** This replica's row in `replicas` (how the others reach it), and where a space's agent is. */
  replicas: ReplicaRegistry;
  /** The key replicas sign relay requests to each other with. */
  replicaSecret: Buffer;
  /** Sends the webhook outbox (every replica runs one). */
  webhooks: WebhookDeliveryWorker;
}
