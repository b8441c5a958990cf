import type { Config } from './config.js';
import { createDockerRuntime, createSwarmRuntime, parseEngines, type Runtime } from './runtime/index.js';

/** KNOT_RUNTIME picks the engine behind the Runtime interface; nothing else in Knot asks which. */
export function createRuntime(config: Pick<Config, 'runtime' | 'dockerHost' | 'swarmEngines'>): Runtime {
  if (config.runtime === 'swarm') return createSwarmRuntime({ dockerHost: config.dockerHost, engines: parseEngines(config.swarmEngines) });
  return createDockerRuntime({ dockerHost: config.dockerHost });
}
