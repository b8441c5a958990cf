// How Knot reaches the swarm's engines, decided once at start: a Docker engine's API is root on its
// host, so one reached over the network must be TLS with a client certificate, unless the operator
// says in so many words that the network is trusted (KNOT_SWARM_INSECURE=true). docs/scale-out.md.
import { RuntimeError } from '../errors.js';
import { isNetworkEngine, nodeTlsDir, readEngineTls, type EngineTls } from '../tls.js';

export interface EngineAccess {
  dockerHost: string;
  tls?: EngineTls;
}

export interface EngineSecurity {
  /** KNOT_SWARM_CERT_PATH: ca.pem, cert.pem, key.pem for the nodes, at its top or in a folder per hostname. */
  certPath?: string;
  /** KNOT_SWARM_INSECURE=true: plain tcp:// engines are accepted. */
  insecure?: boolean;
}

const HOW =
  'Start that engine with --tlsverify (port 2376) and give Knot its client certificate, reach it through an SSH tunnel to a unix socket, ' +
  'or set KNOT_SWARM_INSECURE=true if the network between Knot and the nodes is private';

/** Each node's engine with its TLS, or a refusal naming the node and the ways out. */
export function nodeEngineAccess(engines: Record<string, string>, security: EngineSecurity): Record<string, EngineAccess> {
  const access: Record<string, EngineAccess> = {};
  for (const [hostname, dockerHost] of Object.entries(engines)) {
    if (!isNetworkEngine(dockerHost)) access[hostname] = { dockerHost };
    else if (security.certPath) access[hostname] = { dockerHost, tls: readEngineTls(nodeTlsDir(security.certPath, hostname), `node ${hostname} (${dockerHost})`) };
    else if (security.insecure) access[hostname] = { dockerHost };
    else {
      throw new RuntimeError(
        `KNOT_SWARM_ENGINES: node ${hostname}'s engine ${dockerHost} would be reached without TLS, and anyone on that network could take over the host. ` +
          `${HOW}; with TLS, KNOT_SWARM_CERT_PATH names the folder of ca.pem, cert.pem and key.pem (or of one folder per hostname).`,
        'failed',
      );
    }
  }
  return access;
}

/** The manager (DOCKER_HOST) on a swarm: over the network, TLS as the docker CLI does it (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH). */
export function managerAccess(dockerHost: string, tls: EngineTls | undefined, security: EngineSecurity): EngineAccess {
  if (!isNetworkEngine(dockerHost) || tls || security.insecure) return { dockerHost, tls };
  throw new RuntimeError(
    `DOCKER_HOST: the swarm manager ${dockerHost} would be reached without TLS, and anyone on that network could take over the swarm. ` +
      `${HOW}; with TLS, set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH to the folder of ca.pem, cert.pem and key.pem.`,
    'failed',
  );
}
