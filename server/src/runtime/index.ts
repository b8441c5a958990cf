export { createDockerRuntime, type DockerRuntimeOptions } from './docker-runtime.js';
export { DEFAULT_DOCKER_HOST } from './connection.js';
export { RuntimeError, RuntimeUnavailableError, type RuntimeErrorReason } from './errors.js';
export type * from './runtime.js';
