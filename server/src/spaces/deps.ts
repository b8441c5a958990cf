import type { Config } from '../config.js';
import type { CryptoBox } from '../crypto-box.js';
import type { Db } from '../db.js';
import type { Logger } from '../logger.js';
import type { PubSub } from '../pubsub.js';
import type { ReplicaRegistry } from '../replicas/registry.js';
import type { Runtime } from '../runtime/index.js';

export interface SpaceDeps {
  db: Db;
  pubsub: PubSub;
  log: Logger;
  config: Config;
  runtime: Runtime;
  box: CryptoBox;
  /** This installation's id (the `knot.instance` label on every Docker object it creates). */
  instanceId: string;
  /** This server process (its id labels the fill helpers it makes) and which others are alive. */
  replicas: Pick<ReplicaRegistry, 'id' | 'live'>;
}

/** Names Docker objects after the space id, which never changes (a space can be renamed while it runs). */
export const containerName = (spaceId: string) => `knot-space-${spaceId}`;

export const LABELS = {
  managed: 'knot.managed',
  /** The installation that created the object; the garbage collector touches only its own. */
  instance: 'knot.instance',
  /** On the space's container and its own volumes: the space that owns them. */
  space: 'knot.space',
  /** On a volume that every space naming it shares (no knot.space): Knot never removes it. */
  shared: 'knot.shared',
  owner: 'knot.owner',
  template: 'knot.template',
  templateHash: 'knot.template-hash',
  network: 'knot.network',
  /** On a container whose template declares a health check (run by the agent, not Docker). */
  healthcheck: 'knot.healthcheck',
  /** On a container into which Knot brought its agent (value `injected`): Knot restarts that agent if it dies. */
  agent: 'knot.agent',
} as const;
