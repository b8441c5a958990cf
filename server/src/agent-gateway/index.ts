import { AGENT_PATH } from '../../../protocol/agent-wire.js';
import type { Feature } from '../feature.js';
import { agentBundleHandler } from './bundle.js';
import { AgentGateway } from './gateway.js';

/** Registers `/agent` (the agents' WebSocket) and `/agent/knot-agent.mjs` (the bundle), and becomes `services.agents`. */
export const agentGatewayFeature: Feature = (services, router) => {
  const gateway = new AgentGateway(services);
  services.agents = gateway;
  services.serviceReports = gateway;
  router.route(AGENT_PATH, { upgrade: (req, socket, head) => void gateway.handleUpgrade(req, socket, head) }, 'agent');
  router.route(`${AGENT_PATH}/knot-agent.mjs`, { http: agentBundleHandler(services.log) }, 'agent-bundle');
  return { dispose: () => gateway.dispose() };
};
