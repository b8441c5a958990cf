export { createDockerRuntime, type DockerRuntimeOptions } from './docker-runtime.js';
export { createSwarmRuntime, type SwarmRuntimeOptions } from './swarm/swarm-runtime.js';
export { parseEngines } from './swarm/nodes.js';
export { constraintProblem } from './swarm/constraints.js';
export { DEFAULT_DOCKER_HOST } from './connection.js';
export { readEngineTls, type EngineTls } from './tls.js';
export { RuntimeError, RuntimeUnavailableError, type RuntimeErrorReason } from './errors.js';
export { FILL_HELPER_LABEL, FILL_HELPER_MAX_AGE_SECONDS, FILL_OWNER_LABEL, LOST_NODE_DETAIL } from './runtime.js';
export type * from './runtime.js';
