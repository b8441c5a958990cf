import type { Config } from './config.js';
import { createDockerRuntime, createSwarmRuntime, parseEngines, readEngineTls, type Runtime } from './runtime/index.js';

/**
 * KNOT_RUNTIME picks the engine behind the Runtime interface; nothing else in Knot asks which.
 * Throws, before anything connects, when TLS files are missing or a swarm engine would be reached
 * over the network without TLS.
 */
export function createRuntime(config: Pick<Config, 'runtime' | 'dockerHost' | 'dockerCertPath' | 'swarmEngines' | 'swarmCertPath' | 'swarmInsecure'>): Runtime {
  const tls = config.dockerCertPath ? readEngineTls(config.dockerCertPath, 'DOCKER_HOST (DOCKER_TLS_VERIFY is set)') : undefined;
  if (config.runtime === 'swarm') {
    return createSwarmRuntime({
      dockerHost: config.dockerHost,
      tls,
      engines: parseEngines(config.swarmEngines),
      certPath: config.swarmCertPath,
      insecure: config.swarmInsecure,
    });
  }
  return createDockerRuntime({ dockerHost: config.dockerHost, tls });
}
