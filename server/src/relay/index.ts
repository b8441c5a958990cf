import type { Feature } from '../feature.js';
import { RelayingAgents, RELAY_PATH } from './client.js';
import { createRelayRoute } from './route.js';
import { RelayingTerminals } from './terminals.js';

/**
 * Any replica serves any space: registers `/internal/relay` (this replica's agents, for the other
 * replicas) and wraps `services.agents` so a stream to an agent connected elsewhere is relayed
 * there, and a browser's terminal socket reattaching to a session held elsewhere is joined to it.
 * Registered after the agent gateway, whose local connections it wraps.
 */
export const relayFeature: Feature = (services, router) => {
  const local = services.agents;
  const secret = services.replicaSecret;
  services.agents = new RelayingAgents(local, services.replicas, secret, services.log);
  services.remoteTerminals = new RelayingTerminals(services.replicas, secret, services.log);
  const route = createRelayRoute(local, services.terminals, services.replicas, secret, services.log);
  router.route(RELAY_PATH, { upgrade: (req, socket, head) => void route.upgrade(req, socket, head) }, 'relay');
  return { dispose: async () => route.dispose() };
};
